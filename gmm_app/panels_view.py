"""The Panels view: one fit at chosen iterations side by side (the textbook figure).

Reads the iterates of :func:`gmm_app.stepper.fit_walk`, the sweep's own per-iteration
parameters as in the Step view, and colours the same bounded sample of points. The
iterations are bound to the URL as ``panels=0,1,2,5,20``. Must not import the fit flow or
the sidebar.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import streamlit as st

import gmm_core
from gmm_app import em_steps, presenter
from gmm_app.params import PANELS
from gmm_app.stepper import coloured_sample, fit_walk, responsibilities
from gmm_app.widgets import escape_markdown, figure_block
from gmm_figures.panels import panels_figure

PANEL_SIGMAS = (1.0,)
"""The textbook figure draws the 1σ ellipse."""
HEIGHT_PX = 380
"""Five panels side by side need little height, and on a projector the figure stays in view."""


def chosen_iterations() -> tuple[int, ...]:
    """The iterations typed in the bound text box, or the default with a warning.

    In presenter mode there is no box: the link's ``panels=`` decides.
    """
    if presenter.presenting():
        return PANELS.parse(
            st.query_params.get_all(PANELS.key) or [PANELS.label(PANELS.default)]
        ).value
    text = st.text_input(
        "Iterations shown (comma-separated)",
        value=PANELS.label(PANELS.default),
        key=PANELS.key,
        bind="query-params",
        help=f"Up to {PANELS.max_count} iterations from 0 to {PANELS.high}; 0 is the start.",
    )
    value, problem = PANELS.read(text or "")
    if value is None:
        st.warning(
            f"Iterations shown: {escape_markdown(problem or '', 200)}; "
            f"showing {PANELS.label(PANELS.default)}.",
            icon="⚠️",
        )
        return PANELS.default
    return value


def panel_states(
    points: np.ndarray, walk: em_steps.Walk, iterations: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Means (P, K, D), covariances (P, K, D, D) and responsibilities (P, N, K) per panel.

    A panel after the walk's last iteration gets the final parameters.
    """
    shown = [min(int(i), walk.n_iter) for i in iterations]
    resp = np.stack([responsibilities(points, walk, t) for t in shown])
    return walk.means[shown], walk.covariances[shown], resp


@st.fragment
def panels_view(
    points: np.ndarray,
    result: gmm_core.SweepResult,
    k: int,
    restart: int,
    *,
    colors: Sequence[int],
    projection: tuple[Callable, Callable],
    name: str,
    source: str | None = None,
) -> None:
    """The iterations box, a readout and the small multiples of fit (K, restart).

    Parameters
    ----------
    points : (N, D) the fitted data; result : the sweep; k, restart : the fit shown
    colors : (K,) palette index of every component
    projection : functions taking means and covariances to the plotted plane
    source : where the data come from (a note on the figure), or None
    """
    iterations = chosen_iterations()
    walk = fit_walk(points, result, k, restart)
    if walk is None:
        return
    points, note = coloured_sample(points)
    means, covariances, resp = panel_states(points, walk, iterations)
    to_plane, covariance_to_plane = projection
    late = [i for i in iterations if i > walk.n_iter]
    if not presenter.presenting():  # the panels' titles say it; the figure stays in view
        st.caption(
            f"Each panel: the points coloured by the responsibilities of that iteration's "
            f"parameters, and their 1σ ellipses. This fit ran {walk.n_iter} iterations"
            + (f"; {', '.join(map(str, late))} show its final state." if late else ".")
            + (f" {note}" if note else "")
        )
    figure_block(
        f"{name}_panels",
        panels_figure,
        to_plane(points),
        iterations=iterations,
        last_iteration=walk.n_iter,
        means=to_plane(means),
        covariances=covariance_to_plane(covariances),
        responsibilities=resp,
        component_colors=colors,
        n_sigmas=PANEL_SIGMAS,
        source=source,
        title=f"EM at chosen iterations, K = {k}, restart {restart}",
        height=HEIGHT_PX,
    )
