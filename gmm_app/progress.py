"""The sweep's progress bar and the status line that reports its timing.

Must not import the fit flow, the sidebar or the views (the fit flow uses this).
"""

from __future__ import annotations

from typing import Any, Literal

import streamlit as st

import gmm_core
from gmm_app.widgets import format_seconds
from gmm_core.budget import WorkEstimate
from gmm_core.sweep import SweepProgress


class ProgressBar:
    """An ``st.progress`` bar fed by :class:`gmm_core.sweep.SweepProgress` callbacks.

    The bar is drawn in a placeholder created on the page (outside any cached
    function) and removed by :meth:`close`. ``label`` prefixes the text, e.g. the init
    method of a comparison.
    """

    def __init__(self, estimate: WorkEstimate | None = None) -> None:
        self._slot = st.empty()
        self.label = ""
        if estimate is not None and estimate.quadruples == 0:
            return  # cached: nothing will run, so no bar is drawn
        text = "Starting the sweep (a new shape of sweep compiles first)…"
        if estimate is not None and estimate.seconds >= 1:
            text = f"Starting the sweep: estimated {format_seconds(estimate.seconds)}…"
        self._slot.progress(0.0, text=text)

    def waiting(self, seconds: float) -> None:
        """Before the first progress report (compiling, or waiting for a free worker)."""
        if seconds >= 2:
            self._show(0.0, f"Starting the sweep… {seconds:.0f} s")

    def __call__(self, progress: SweepProgress) -> None:
        self._show(
            min(max(float(progress.fraction), 0.0), 1.0),
            f"{progress.restarts_done} of {progress.n_restarts} restarts done, "
            f"{format_seconds(progress.remaining_seconds)} left",
        )

    def _show(self, fraction: float, text: str) -> None:
        prefix = f"{self.label}: " if self.label else ""
        self._slot.progress(fraction, text=prefix + text)

    def close(self) -> None:
        self._slot.empty()


#: The icon of a finished status, as ``st.status`` draws it for each final state.
FINAL_STATUS_ICONS = {"complete": ":material/check:", "error": ":material/error:"}


def final_status(label: str, state: Literal["complete", "error"]) -> Any:
    """The status line of a finished sweep or comparison: a closed expander, state icon.

    The progress bar shows the work while it runs, so the status is drawn once, after
    it, in its final state. ``st.status`` pauses 50 ms whenever one is drawn (about an
    eighth of a warm redraw); the expander it is made of, with the same icon, does not.
    """
    return st.expander(label, expanded=False, icon=FINAL_STATUS_ICONS[state])


def sweep_label(result: gmm_core.SweepResult, fresh: bool) -> str:
    """Status text of a sweep: compile and run time when computed now, else "(cached)"."""
    size = f"{len(result.k_values)} K values × {result.n_restarts} restarts"
    if fresh and result.compile_seconds > 0:
        return (
            f"Sweep of {size}: compiled in {result.compile_seconds:.2f} s, "
            f"ran in {result.run_seconds:.3f} s"
        )
    cached = "" if fresh else " (cached)"
    return f"Sweep of {size} ran in {result.run_seconds:.3f} s{cached}"
