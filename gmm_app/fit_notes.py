"""What the app says about a sweep's own fits: stuck at a saddle, failed, float64 E steps.

Pure readings of a :class:`gmm_core.SweepResult` into short texts
(``widgets.show_notes`` puts them on the page). No Streamlit.

Must not import JAX: compiled work lives in gmm_core (``tests/test_layers.py``).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import gmm_core

STUCK_ADVICE = "Try init k-means++, a smaller tol, or more restarts."


class Note(NamedTuple):
    """One message: ``"warning"`` for a fit the user should not trust, else ``"info"``."""

    level: Literal["warning", "info"]
    text: str


def fit_status(result: gmm_core.SweepResult, k: int, restart: int) -> str:
    """One word or two for restart ``restart`` of K: converged, stuck, failed or running out."""
    row = result.k_index(k)
    if result.failed[row, restart]:
        return "failed"
    if result.stuck[row, restart]:
        return "stuck"
    return "yes" if result.converged[row, restart] else "no"


def fit_notes(result: gmm_core.SweepResult, k: int, restart: int) -> list[Note]:
    """A warning when the shown fit is stuck, then what model selection left out, then
    precision. (A failed fit has its own message, from :mod:`gmm_app.collapse`.)"""
    notes = []
    if fit_status(result, k, restart) == "stuck":  # a failed fit: see gmm_app.collapse
        notes.append(
            Note(
                "warning",
                f"This fit (K = {k}, restart {restart}) is stuck at a saddle: its components "
                "sit on top of one another near the data's mean, so it is no better than "
                f"K = 1, and EM stopped only because it moved too slowly. {STUCK_ADVICE}",
            )
        )
    return notes + selection_notes(result)


def selection_notes(result: gmm_core.SweepResult) -> list[Note]:
    """What BIC and AIC had to leave out, and why some E steps ran in float64."""
    notes = []
    left_out = result.left_out_k()
    if left_out:
        names = ", ".join(map(str, left_out))
        notes.append(
            Note(
                "warning",
                f"BIC and AIC leave out K = {names}: every restart there is stuck at a "
                f"saddle or failed. {STUCK_ADVICE}",
            )
        )
    reason = result.e_step_float64_reason
    if reason:
        notes.append(Note("info", f"{reason}."))
    return notes
