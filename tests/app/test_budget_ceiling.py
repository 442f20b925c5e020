"""A visitor cannot confirm a sweep past the ceiling on one request's worker time."""

from __future__ import annotations

import pytest

from gmm_app import budget_gate, fit_flow, sweep_workers
from gmm_core import budget
from tests.support.apptest import last_sweep, make_app, run_ok
from tests.support.apptest import plain_errors as errors

pytestmark = pytest.mark.usefixtures("navigation_mode")

#: Estimated at about 5 min: under gmm_core's refusal limit (10 min), over the ceiling.
OVER_THE_CEILING = {"n": "50000", "restarts": "64", "max_iter": "1000"}


def test_a_sweep_whose_deadline_would_pass_the_ceiling_is_refused_not_offered() -> None:
    at = run_ok(make_app(OVER_THE_CEILING))
    settings = at.session_state["settings"]
    estimate = fit_flow.estimate_synthetic(settings.data_key, settings.fit_key)
    assert sweep_workers.max_estimate_seconds() < estimate.seconds
    assert estimate.seconds < budget.REFUSE_ABOVE_SECONDS
    assert budget.verdict(estimate, 2**40) == "confirm"  # the library alone would ask
    assert budget_gate.verdict(estimate, 2**40) == "refuse"
    (message,) = errors(at)
    assert "too large to run here" in message and "over the limits of 3 min" in message
    assert "Restarts per K to at most" in message
    assert not [b for b in at.button if b.key == "confirm_explore"] and last_sweep(at) is None
