"""Explore: the synthetic data, the fitted ellipses, EM's animation and the log-likelihood.

A thin page: widgets and layout from gmm_app; must not import JAX or Plotly.
"""

from __future__ import annotations

from gmm_app import datasets, explorer, fit_flow, presenter, sidebar, widgets

settings = sidebar.current_settings()
presenter.page_heading(
    "Explore",
    "Every K of the range times every restart is fitted at once; pick the K and restart to "
    "look at below. Changing them does not refit.",
)
points, labels, result = fit_flow.synthetic_fit_or_stop(settings, name="explore")
truth = datasets.page_truth(settings)

explorer.fit_explorer(
    points,
    result,
    name="explore",
    export=settings.as_dict(),
    truth=truth,
    true_labels=labels,
    placed=settings.init_means,
    source=datasets.source_note(settings),
)
widgets.data_download(points, labels, "gmm_explorer_data")
