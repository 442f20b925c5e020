"""AppTest checks that the app says when a fit is stuck, failed or needed float64."""

from __future__ import annotations

import pytest

from tests.support.apptest import make_app, open_page, plain_warnings, run_ok

pytestmark = pytest.mark.usefixtures("navigation_mode")


def metric(at, label: str) -> str:
    return next(str(m.value) for m in at.metric if m.label == label)


def test_a_fit_stuck_at_a_saddle_says_so_and_how_to_get_it_moving() -> None:
    # Four symmetric blobs from random responsibilities: every K > 1 stops at the saddle.
    at = run_ok(make_app({"preset": "four_blobs", "init": "random", "k": "4"}))
    assert metric(at, "Converged") == "stuck"
    warnings = plain_warnings(at)
    assert any("K = 4, restart" in w and "stuck at a saddle" in w for w in warnings)
    assert any("leave out K = 2, 3, 4, 5, 6" in w and "k-means++" in w for w in warnings)
    assert metric(at, "K chosen by BIC") == "1"


def test_a_healthy_fit_shows_no_saddle_warning() -> None:
    at = run_ok(make_app({"preset": "four_blobs", "init": "k-means++"}))
    assert metric(at, "Converged") == "yes"
    assert not any("saddle" in w for w in plain_warnings(at))


def test_model_selection_names_the_k_values_it_left_out() -> None:
    at = open_page(make_app({"preset": "four_blobs", "init": "random"}), "pages/model_selection.py")
    assert any("leave out K = 2, 3, 4, 5, 6" in w for w in plain_warnings(at))


def test_the_fit_summary_says_why_the_e_step_ran_in_float64() -> None:
    at = run_ok(make_app({"tol": "1e-08"}))
    captions = [c.value for c in at.caption]
    assert any("E step in float64 because tol" in c for c in captions), captions
