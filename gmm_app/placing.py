"""The "Place initial means" mode: click on the data to place starting means, then fit.

Clicks edit a draft kept in session state; "Fit from these" writes the draft to the
URL (``init_means``) and reruns the app, whose sweep then starts from them (see
:meth:`gmm_core.FitSettings.placed`). Must not import the fit flow or the sidebar.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from gmm_app import presenter
from gmm_app.param_types import Means, format_means
from gmm_app.params import INIT_MEANS
from gmm_app.placed_means import click_grid, near_radius, toggle_mean
from gmm_figures.placing import placing_figure
from gmm_figures.style import padded_range

HELP = (
    "Click on the plot to place a starting mean, click near one to remove it. K is the "
    'number of means. "Fit from these" runs EM from them with equal weights and one '
    "shared circle as wide as the data (as in Bishop's Figure 9.8): unlike scikit-learn's "
    "means_init, which keeps the usual initialisation and replaces only its means. "
    "The means are kept in the page address (init_means=x,y;x,y). For data with more "
    "than two columns they are placed in the plotted plane and lifted back to every "
    "column through the projection: their other coordinates are those of the data mean."
)


def _draft_key(name: str) -> str:
    return f"{name}_placed_means"


def _clicks_key(name: str) -> str:
    return f"{name}_placing_clicks"


def plot_ranges(points: np.ndarray) -> tuple[list[float], list[float]]:
    """Axis ranges of the placing figure: the points with a margin."""
    low, high = points.min(axis=0), points.max(axis=0)
    return (
        padded_range(float(low[0]), float(high[0]), 0.06),
        padded_range(float(low[1]), float(high[1]), 0.06),
    )


def _on_click(name: str, chart_key: str, radius: float) -> None:
    """Chart callback: add a mean at the clicked point, or remove the one near it."""
    event: Any = st.session_state.get(chart_key) or {}
    selection = event.get("selection") or {}
    points = selection.get("points") or []
    if not points:
        return
    click = (float(points[0]["x"]), float(points[0]["y"]))
    draft = st.session_state.get(_draft_key(name), ())
    st.session_state[_draft_key(name)] = toggle_mean(draft, click, radius, INIT_MEANS.max_means)
    # A fresh chart (a new key) after every click: its selection starts empty again.
    st.session_state[_clicks_key(name)] = st.session_state.get(_clicks_key(name), 0) + 1


def placing_toggle(name: str) -> bool:
    """The switch of the placing mode (not in the URL: the placed means are)."""
    return st.toggle("Place initial means", key=f"{name}_placing", help=HELP)


@st.fragment
def placing_panel(points: np.ndarray, applied: Means, name: str, *, placing: bool) -> None:
    """What the shown fit started from and, while placing, the figure and its buttons.

    A fragment of its own: a click reruns only this panel, not the views below it.

    Parameters
    ----------
    points : (N, 2) the data in the plotted plane
    applied : the means the shown fit started from (from the URL), () when none
    name : prefix of widget keys
    placing : whether the placing mode is on
    """
    if applied:
        k = len(applied)
        st.caption(
            f"This fit started from {k} placed means (K = {k}): equal weights and one "
            "shared circle as wide as the data."
        )
    if not placing:
        return
    draft: Means = st.session_state.setdefault(_draft_key(name), applied)
    x_range, y_range = plot_ranges(points)
    chart_key = f"{name}_placing_chart_{st.session_state.get(_clicks_key(name), 0)}"
    figure = placing_figure(
        points,
        np.asarray(draft, dtype=np.float64).reshape(-1, 2),
        click_grid(x_range, y_range),
        x_range,
        y_range,
        title=f"Click to place initial means: K = {len(draft)}",
    )
    st.plotly_chart(
        presenter.figure_for_screen(figure),
        theme=None,
        key=chart_key,
        on_select=lambda: _on_click(name, chart_key, near_radius(x_range, y_range)),
        selection_mode="points",
    )
    _buttons(draft, applied, name)


def _buttons(draft: Means, applied: Means, name: str) -> None:
    """ "Fit from these" (writes the URL, reruns the app) and "Clear" (removes them all)."""
    fit_column, clear_column, text_column = st.columns([1, 1, 3])
    if fit_column.button(
        "Fit from these", key=f"{name}_fit_placed", disabled=not draft, type="primary"
    ):
        st.query_params[INIT_MEANS.key] = format_means(draft)
        st.rerun()
    if clear_column.button("Clear", key=f"{name}_clear_placed", disabled=not (draft or applied)):
        st.session_state[_draft_key(name)] = ()
        if INIT_MEANS.key in st.query_params:
            del st.query_params[INIT_MEANS.key]
            st.rerun()
        st.rerun(scope="fragment")
    text_column.caption(f"init_means = {format_means(draft) or '(none)'}")
