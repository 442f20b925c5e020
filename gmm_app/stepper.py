"""The Step view: one fit (K, restart) walked through EM one half-step at a time.

Reads the fit's iterates from the sweep (:mod:`gmm_app.em_steps`): its stored snapshots,
or, for a fit that ran past them, its replay on a sweep worker under a deadline (cached);
the server process only colours a fixed sample of at most :data:`COLOURED_POINTS` points
by the responsibilities of the parameters shown. The position (0 = start, 2t - 1 = E step
of iteration t, 2t = its M step) is bound to the URL as ``step=``. Must not import the
fit flow or the sidebar.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence

import numpy as np
import streamlit as st

import gmm_core
from gmm_app import em_steps, sweep_workers
from gmm_app.params import STEP
from gmm_app.widgets import escape_markdown, figure_block, format_metric
from gmm_core.budget import estimate_sweep
from gmm_core.density import log_responsibilities
from gmm_figures.em_step import em_step_figure
from gmm_figures.style import subsample_indices

COLOURED_POINTS = 2000
"""Points drawn and coloured by their responsibilities (a fixed random sample of larger
data): the figures draw no more, and the server's work per step stays bounded."""

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


@st.cache_data(max_entries=16, show_spinner="Replaying the fit iteration by iteration…")
def _replayed(key: str, _points: np.ndarray, _options: dict[str, object]) -> em_steps.Walk:
    """The walk of a one-fit sweep on a worker, cached on ``key`` (a digest of both)."""
    fields = {field.name for field in dataclasses.fields(gmm_core.FitSettings)}
    settings = gmm_core.FitSettings(**{k: v for k, v in _options.items() if k in fields})
    estimate = estimate_sweep(*_points.shape, settings)
    replay = sweep_workers.run_sweep(_points, _options, estimate.seconds)
    walk = em_steps.stored_walk(replay, settings.k_max, 0)
    if walk is None:
        raise ValueError("the replay did not keep every iteration")
    return walk


def fit_walk(
    points: np.ndarray, result: gmm_core.SweepResult, k: int, restart: int
) -> em_steps.Walk | None:
    """Every EM iterate of restart ``restart`` of K: stored, or replayed on a worker; None
    after a warning on the page when the replay could not run (an error, or its deadline)."""
    walk = em_steps.stored_walk(result, k, restart)
    if walk is not None:
        return walk
    options = em_steps.replay_options(result, k, restart)
    arrays = [value for value in options.values() if isinstance(value, np.ndarray)]
    plain = sorted((name, value) for name, value in options.items() if np.isscalar(value))
    try:
        return _replayed(_digest(points, *arrays) + repr(plain), points, options)
    except (ValueError, RuntimeError, MemoryError) as error:  # SweepAbandoned is a RuntimeError
        message = escape_markdown(str(error), 300)
        st.warning(f"The iterations of this fit could not be replayed: {message}", icon="⚠️")
        return None


def coloured_sample(points: np.ndarray) -> tuple[np.ndarray, str]:
    """The rows of ``points`` (N, D) that the figures draw and colour: at most
    :data:`COLOURED_POINTS`, the same ones every time; and a note saying so when that is
    fewer than N ("" otherwise)."""
    keep = subsample_indices(points.shape[0], COLOURED_POINTS)
    if keep.size == points.shape[0]:
        return points, ""
    return points[keep], f"Colours drawn for {keep.size:,} of {points.shape[0]:,} points."


def responsibilities(points: np.ndarray, walk: em_steps.Walk, iteration: int) -> np.ndarray:
    """(N, K) responsibilities of the parameters after ``iteration`` (gmm_core's density).

    A fit that failed at its start (a covariance not positive definite, ``reg_covar=0``)
    gives every component an equal share: the page already says the fit failed.
    """
    t = min(int(iteration), walk.n_iter)
    try:
        log_resp, _ = log_responsibilities(
            points, walk.weights[t], walk.means[t], walk.covariances[t]
        )
    except ValueError:
        return np.full((points.shape[0], walk.weights.shape[1]), 1.0 / walk.weights.shape[1])
    return np.exp(log_resp)


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
    if walk is None:
        return
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
    shown, note = coloured_sample(points)
    if note:
        st.caption(note)
    figure_block(
        f"{name}_step",
        em_step_figure,
        **half_step(shown, walk, position, projection),
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


def half_step(
    points: np.ndarray,
    walk: em_steps.Walk,
    position: int,
    projection: tuple[Callable, Callable],
) -> dict[str, np.ndarray | None]:
    """What the figure shows at ``position``, in the plotted plane.

    Start: the initial parameters. E step of iteration t: the parameters of t - 1 and the
    responsibilities they give ``points`` (N, D). M step of t: the parameters of t, those
    of t - 1 faint.
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
        inputs["responsibilities"] = responsibilities(points, walk, now)
    elif stage == "M step":
        inputs["previous_means"] = to_plane(walk.means[now - 1])
        inputs["previous_covariances"] = covariance_to_plane(walk.covariances[now - 1])
    return inputs
