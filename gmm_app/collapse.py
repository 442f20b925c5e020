"""The singularity readout: how narrow the chosen fit's narrowest component is, and failed fits.

A component whose covariance shrinks onto a few identical points makes the likelihood grow
without bound; ``reg_covar`` (added to every covariance's diagonal) is the floor that stops
it. The readout names the smallest covariance eigenvalue and says when a fit collapsed or
failed. Must not import the fit flow or the sidebar.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from gmm_app import presenter
from gmm_app.summaries import FitView
from gmm_app.widgets import format_metric

COLLAPSE_RATIO = 1e-4
"""A component is called collapsed when its smallest covariance eigenvalue is below this
share of the data's own smallest variance (along its principal axes)."""

CAPTION = (
    "Smallest eigenvalue of any fitted covariance: the variance of the fit's narrowest "
    "direction. EM adds reg_covar to every covariance's diagonal, so it cannot fall below "
    "reg_covar. Lower reg_covar and a component may shrink onto a few (nearly) identical "
    "points: this eigenvalue follows reg_covar towards 0 and the log-likelihood climbs "
    "without bound. That is a degenerate maximum of the likelihood, not a better model."
)


def smallest_eigenvalue(fit: FitView) -> float:
    """The smallest eigenvalue over the covariances of the components with weight > 0."""
    covariances = fit.mixture.covariances[fit.mixture.weights > 0]
    if covariances.size == 0 or not np.all(np.isfinite(covariances)):
        return float("nan")
    return float(np.linalg.eigvalsh(covariances).min())


def data_floor(points: np.ndarray) -> float:
    """The data's smallest positive variance along its principal axes (1 if none)."""
    if points.shape[0] < 2:
        return 1.0
    eigenvalues = np.linalg.eigvalsh(np.atleast_2d(np.cov(points, rowvar=False)))
    positive = eigenvalues[eigenvalues > 0]
    return float(positive.min()) if positive.size else 1.0


def status_message(fit: FitView, points: np.ndarray) -> tuple[str, str] | None:
    """``("error" | "warning", text)`` for a failed fit, or a collapsed one (a component far
    narrower than anything in the data), else None."""
    where = f"Restart {fit.restart} of K = {fit.k}"
    if fit.failed:
        return "error", (
            f"{where} failed: a covariance stopped being positive definite, because a "
            "component collapsed onto identical points with reg_covar too small to hold it. "
            "Shown: its last valid parameters; its log-likelihood is not meaningful. "
            "Raise reg_covar to fit it."
        )
    smallest = smallest_eigenvalue(fit)
    if np.isfinite(smallest) and smallest < COLLAPSE_RATIO * data_floor(points):
        return "warning", (
            f"{where} collapsed: a component has shrunk onto a few (nearly) identical points "
            f"(smallest eigenvalue {smallest:.2e}). Its high log-likelihood "
            "comes from that spike, not from a better model."
        )
    return None


def collapse_readout(
    fit: FitView, message: tuple[str, str] | None, *, always: bool = False
) -> None:
    """``message`` (from :func:`status_message`) for a failed or collapsed fit, with the
    smallest-eigenvalue metric and its caption; the metric alone when ``always`` (e.g.
    reg_covar was changed)."""
    if message is not None:
        kind, text = message
        (st.error if kind == "error" else st.warning)(text, icon="⚠️")
    elif not always:
        return
    if presenter.presenting():
        return  # the readouts' one line names the eigenvalue
    value = format_metric(smallest_eigenvalue(fit), ".3g")
    left, right = st.columns([1, 3], vertical_alignment="center")
    left.metric("Smallest covariance eigenvalue", value)
    right.caption(CAPTION)
