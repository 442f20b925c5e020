"""The work budget on the page: refuse, ask for confirmation, or let a sweep run.

The policy (limits, estimates) is :mod:`gmm_core.budget`; this module shows its verdict
and finds the settings to lower. Must not import the fit flow, the views or the sidebar.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

import streamlit as st

from gmm_app.sweep_workers import max_estimate_seconds
from gmm_app.widgets import format_bytes, format_seconds
from gmm_core import budget
from gmm_core.budget import WorkEstimate

# --------------------------------------------------------------------------- work budget

_CONFIRMED = "_confirmed_sweeps"
MAX_CONFIRMATIONS = 8


@dataclass(frozen=True)
class Knob:
    """A setting that lowers a sweep's cost: its label, current value and lowest value."""

    label: str
    value: int
    low: int


def budget_suggestions(
    knobs: Mapping[str, Knob],
    estimate_with: Callable[[str, int], WorkEstimate],
    fits: Callable[[WorkEstimate], bool],
) -> list[str]:
    """``"Restarts per K to at most 9"`` for every knob that alone brings the cost within
    ``fits``."""
    found = []
    for name, knob in knobs.items():
        values = range(knob.low, knob.value)  # the cost grows with every knob
        fitting = bisect.bisect_left(values, True, key=lambda v: not fits(estimate_with(name, v)))
        if fitting:
            found.append(f"{knob.label} to at most {values[fitting - 1]:,}")
    return found


def _confirm(token: Hashable) -> None:
    confirmed = [t for t in st.session_state.get(_CONFIRMED, []) if t != token]
    st.session_state[_CONFIRMED] = [*confirmed, token][-MAX_CONFIRMATIONS:]


def verdict(estimate: WorkEstimate, available: int) -> budget.Verdict:
    """:func:`gmm_core.budget.verdict`, refusing also what would hold a sweep worker past
    its ceiling (:data:`gmm_app.sweep_workers.MAX_REQUEST_SECONDS`): no confirming past it."""
    if estimate.seconds > max_estimate_seconds():
        return "refuse"
    return budget.verdict(estimate, available)


def budget_gate(
    estimate: WorkEstimate,
    *,
    token: Hashable,
    name: str,
    what: str,
    knobs: Mapping[str, Knob],
    estimate_with: Callable[[str, int], WorkEstimate],
    hint: str = "",
) -> bool:
    """Check a sweep's estimated cost before it runs; True when it may run now.

    Above a hard limit (:func:`verdict` says ``"refuse"``) an error
    names the settings to lower and the estimate; between the confirmation threshold
    and the limit a warning shows the estimate with a "Run this large sweep" button,
    and the sweep runs once the user has pressed it (remembered per ``token``).
    """
    available = budget.available_memory_bytes()
    decision = verdict(estimate, available)
    if decision == "run":
        return True
    cost = f"{format_seconds(estimate.seconds)} and {format_bytes(estimate.peak_bytes)} of memory"
    if decision == "refuse":
        limit_memory = format_bytes(budget.memory_limit_bytes(available))
        limit_time = f"{min(budget.REFUSE_ABOVE_SECONDS, max_estimate_seconds()) / 60:g} min"
        lower = budget_suggestions(
            knobs, estimate_with, lambda e: verdict(e, available) != "refuse"
        )
        advice = (
            "Lower one of these settings: " + "; ".join(lower) + "."
            if lower
            else "Lower several of: " + ", ".join(k.label for k in knobs.values()) + "."
        )
        st.error(
            f"{what} is too large to run here: estimated {cost}, over the limits of "
            f"{limit_time} and {limit_memory}. {advice}{hint}",
            icon="🛑",
        )
        return False
    if token in st.session_state.get(_CONFIRMED, []):
        return True
    lower = budget_suggestions(knobs, estimate_with, lambda e: verdict(e, available) == "run")
    skip = f" Or lower {lower[0]} to run it without asking." if lower else ""
    st.warning(
        f"{what} is large: estimated {cost} (an upper bound: fits that converge early "
        f"take less). Press “Run this large sweep” to run it.{skip}",
        icon="⏳",
    )
    st.button(
        "Run this large sweep",
        key=f"confirm_{name}",
        on_click=_confirm,
        args=(token,),
        type="primary",
    )
    return False
