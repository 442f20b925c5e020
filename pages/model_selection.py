"""Model selection: BIC, AIC and the final log-likelihood against K over every restart.

A thin page: widgets and layout from gmm_app; must not import JAX or Plotly.
"""

from __future__ import annotations

import streamlit as st

import gmm_figures as figures
from gmm_app import fit_flow, fit_notes, presenter, sidebar, summaries, widgets
from gmm_app.widgets import NO_TRUTH

settings = sidebar.current_settings()
presenter.page_heading(
    "Model selection",
    "Each K is fitted from every restart; the spread shows how much the restarts disagree. "
    "K is chosen by the lowest BIC of each K's best restart.",
)
points, labels, result = fit_flow.synthetic_fit_or_stop(settings, name="model_selection")

chosen_k = result.best_k("bic", warn=False)
true_k = settings.true_k
left, middle, right = st.columns(3)
left.metric("K chosen by BIC", chosen_k)
middle.metric("K chosen by AIC", result.best_k("aic", warn=False))
right.metric("True K", NO_TRUTH if true_k is None else true_k)
widgets.show_notes(fit_notes.selection_notes(result))
widgets.figure_block(
    "model_selection",
    figures.model_selection_figure,
    result.k_values,
    bic=result.bic,
    aic=result.aic,
    final_log_likelihood=result.final_log_likelihood,
    chosen_k=chosen_k,
    true_k=true_k,
    title="Model selection over K",
)
st.dataframe(summaries.selection_table(result), hide_index=True)
widgets.sweep_downloads(result, points, labels, settings.as_dict())
