"""AppTest of the singularity demo, the one-dimensional mode and uploads with a label column."""

from __future__ import annotations

import pytest

from tests.support.apptest import (
    charts,
    errors,
    make_app,
    open_page,
    plain_warnings,
    run_ok,
    sidebar,
    trace_names,
)

pytestmark = pytest.mark.usefixtures("navigation_mode")


def _metric(at, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert len(found) == 1, [m.label for m in at.metric]
    return found[0]


@pytest.mark.parametrize("preset", ["bimodal_1d", "skewed_1d"])
def test_one_dimensional_presets_show_densities_on_every_page(preset: str) -> None:
    at = run_ok(make_app({"preset": preset}))
    assert errors(at) == [] and at.warning.len == 0
    names = trace_names(charts(at)[0])
    n_true = 2 if preset == "bimodal_1d" else 3
    assert len([n for n in names if n.startswith("true ") and n.endswith(" density")]) == n_true
    assert "fit mixture" in names and "true mixture" in names
    for page in ("pages/model_selection.py", "pages/restarts.py"):
        open_page(at, page)
        assert errors(at) == []


def _smallest_eigenvalue(at) -> float:
    return float(_metric(at, "Smallest covariance eigenvalue"))


def test_singularity_preset_shrinks_a_component_as_reg_covar_falls() -> None:
    at = run_ok(make_app({"preset": "singularity", "k": "2", "reg_covar": "1e-02"}))
    assert errors(at) == []
    assert sidebar(at, "selectbox", "init").value == "k-means++"  # the preset's own init
    broad = _smallest_eigenvalue(at)
    likelihood = float(_metric(at, "Final log-likelihood / point"))
    sidebar(at, "select_slider", "reg_covar").set_value(1e-6)
    run_ok(at)
    narrow = _smallest_eigenvalue(at)
    # The clump's component sits on its floor, reg_covar (the clump's own spread is 1e-6).
    assert narrow < 1e-5 < 1e-3 < broad
    assert float(_metric(at, "Final log-likelihood / point")) > likelihood + 0.3
    assert any("collapsed" in w for w in plain_warnings(at))
    assert any("reg_covar" in c.value for c in at.caption)


def test_reg_covar_zero_on_the_singularity_preset_shows_a_failed_fit_never_nan() -> None:
    at = run_ok(make_app({"preset": "singularity", "reg_covar": "0"}))
    messages = [e.value for e in at.error] + plain_warnings(at)
    assert any("failed" in m or "collapsed" in m for m in messages), messages
    assert charts(at), "a failed fit still draws its last valid parameters"
    shown = [m.value for m in at.metric]
    assert not any("nan" in str(v).lower() for v in shown), shown


def test_a_bad_reg_covar_in_the_link_warns_and_keeps_the_other_settings() -> None:
    at = run_ok(make_app({"reg_covar": "banana", "restarts": "3", "tol": "1e-04"}))
    assert any("reg_covar" in w for w in plain_warnings(at))
    assert sidebar(at, "select_slider", "reg_covar").value == 1e-6
    assert sidebar(at, "slider", "restarts").value == 3
    assert sidebar(at, "select_slider", "tol").value == 1e-4
    assert "reg_covar" not in at.query_params
