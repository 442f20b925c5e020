"""The Step view: one fit (K, restart) walked through EM one half-step at a time.

Reads the iterates of :func:`gmm_app.em_steps.walk`, computed once per fit from the
initial parameters the sweep stored and cached; a step never refits the sweep. The
position (0 = start, 2t - 1 = E step of iteration t, 2t = its M step) is bound to the
URL as ``step=``. Must not import the fit flow or the sidebar.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np
import streamlit as st

import gmm_core
from gmm_app import em_steps
from gmm_app.params import STEP
from gmm_app.widgets import figure_block, format_metric
from gmm_figures.em_step import em_step_figure

_SHORTCUTS = (
    ("⏮ Start", "Home", "first"),
    ("◀ Back", "Left", "back"),
    ("Next ▶", "Right", "next"),
    ("End ⏭", "End", "last"),
)


def _digest(*arrays: np.ndarray) -> str:
    """A plain-value name for arrays in a cache key."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(str(array.shape).encode())
    return digest.hexdigest()


@st.cache_data(max_entries=16, show_spinner="Walking the fit through EM…")
def _walk(
    key: tuple[str, str, int, float], _X: np.ndarray, _initial: tuple[np.ndarray, ...]
) -> em_steps.Walk:
    """The iterates of one fit, cached on (digest of data and start, covariance type, n_iter,
    reg_covar)."""
    _, covariance_type, n_iter, reg_covar = key
    return em_steps.walk(_X, *_initial, covariance_type, n_iter, reg_covar)


def fit_walk(
    points: np.ndarray, result: gmm_core.SweepResult, k: int, restart: int
) -> em_steps.Walk:
    """Every EM iterate of restart ``restart`` of K (cached)."""
    row = result.k_index(k)
    initial = (
        result.initial.weights[row, restart, :k],
        result.initial.means[row, restart, :k],
        result.initial.covariances[row, restart, :k],
    )
    n_iter = int(result.n_iter[row, restart])
    key = (
        _digest(points, *initial),
        result.settings.covariance_type,
        n_iter,
        result.settings.reg_covar,
    )
    return _walk(key, points, initial)


def _move(action: str, n_positions: int) -> None:
    """Button callback: move the bound position (clamped to the walk)."""
    current = int(st.session_state.get(STEP.key, 0))
    target = {"first": 0, "back": current - 1, "next": current + 1, "last": n_positions - 1}
    st.session_state[STEP.key] = min(max(target[action], 0), n_positions - 1)


@st.fragment
def step_view(
    points: np.ndarray,
    result: gmm_core.SweepResult,
    k: int,
    restart: int,
    *,
    colors: Sequence[int],
    sigmas: Sequence[float],
    projection: tuple[Callable, Callable],
    name: str,
    height: int = 560,
) -> None:
    """Back/Next/Start/End (← → Home End), the readout and the half-step figure.

    Parameters
    ----------
    points : (N, D) the fitted data; result : the sweep; k, restart : the fit to walk
    colors : (K,) palette index of every component; sigmas : ellipse radii
    projection : functions taking means and covariances to the plotted plane
    """
    walk = fit_walk(points, result, k, restart)
    last = walk.n_positions - 1
    if not isinstance(st.session_state.get(STEP.key), int) or st.session_state[STEP.key] > last:
        st.session_state[STEP.key] = min(int(st.session_state.get(STEP.key) or 0), last)
    buttons = st.columns(len(_SHORTCUTS))
    for column, (label, shortcut, action) in zip(buttons, _SHORTCUTS, strict=True):
        column.button(
            label,
            key=f"{name}_step_{action}",
            shortcut=shortcut,
            on_click=_move,
            args=(action, walk.n_positions),
            width="stretch",
            help=f"Keyboard: {shortcut}",
        )
    position = st.slider(
        "Half-step",
        0,
        max(last, 1),
        key=STEP.key,
        bind="query-params",
        disabled=last == 0,
        help="0 is the start; then every iteration is an E step and an M step.",
    )
    position = min(int(position), last)
    iteration, stage = em_steps.describe(position)
    _readout(walk, iteration, stage)
    figure_block(
        f"{name}_step",
        em_step_figure,
        **_half_step(points, walk, position, projection),
        component_colors=colors,
        n_sigmas=sigmas,
        log_likelihood=walk.log_likelihood,
        iteration=iteration,
        stage=stage,
        title=f"Step through EM, K = {k}, restart {restart}",
        height=height,
    )


def _readout(walk: em_steps.Walk, iteration: int, stage: str) -> None:
    """The stage ("Iteration 3 · E step") and the log-likelihood so far."""
    value = format_metric(walk.log_likelihood[iteration], ".5f")
    st.markdown(
        f"**Iteration {iteration} · {stage}** · log-likelihood / point so far: {value} "
        f"(this fit ran {walk.n_iter} iterations)"
    )


def _half_step(
    points: np.ndarray,
    walk: em_steps.Walk,
    position: int,
    projection: tuple[Callable, Callable],
) -> dict[str, np.ndarray | None]:
    """What the figure shows at ``position``, in the plotted plane.

    Start: the initial parameters. E step of iteration t: the parameters of t - 1 and the
    responsibilities they give. M step of t: the parameters of t, those of t - 1 faint.
    """
    to_plane, covariance_to_plane = projection
    iteration, stage = em_steps.describe(position)
    now = iteration if stage != "E step" else iteration - 1
    inputs: dict[str, np.ndarray | None] = {
        "points": to_plane(points),
        "means": to_plane(walk.means[now]),
        "covariances": covariance_to_plane(walk.covariances[now]),
    }
    if stage == "E step":
        log_resp, _ = em_steps.log_responsibilities(
            points, walk.weights[now], walk.means[now], walk.covariances[now]
        )
        inputs["responsibilities"] = np.exp(log_resp)
    elif stage == "M step":
        inputs["previous_means"] = to_plane(walk.means[now - 1])
        inputs["previous_covariances"] = covariance_to_plane(walk.covariances[now - 1])
    return inputs
