"""Restarts: every restart's final fit for one K, and the init methods compared.

A thin page: widgets and layout from gmm_app; must not import JAX or Plotly.
"""

from __future__ import annotations

import functools

from gmm_app import datasets, fit_flow, presenter, restarts_view, sidebar, widgets

settings = sidebar.current_settings()
presenter.page_heading(
    "Restarts",
    "EM finds a local optimum that depends on where it starts. Each panel is one restart's "
    "final fit; the histogram shows how often restarts reach the best log-likelihood.",
)
points, labels, result = fit_flow.synthetic_fit_or_stop(settings, name="restarts")

truth = datasets.page_truth(settings)
restarts_view.restarts_for_k(  # a fragment: choosing K does not rerun the page
    points, labels, result, truth, functools.partial(fit_flow.init_comparison, settings)
)
widgets.sweep_downloads(result, points, labels, settings.as_dict())
