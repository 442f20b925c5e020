"""AppTest checks of the textbook figure: the Old Faithful preset, the Panels tab, exports."""

from __future__ import annotations

import pytest

from gmm_core import SHIPPED
from tests.support.apptest import (
    chart,
    errors,
    make_app,
    matching,
    open_page,
    plain,
    run_ok,
    sidebar,
    trace_names,
)

pytestmark = pytest.mark.usefixtures("navigation_mode")

TEXTBOOK = {"preset": "old_faithful", "init": "standard_normal", "tol": "1e-05", "k": "2"}


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_old_faithful_is_real_data_with_its_source_and_no_truth() -> None:
    at = run_ok(make_app({"preset": "old_faithful", "tab": "Ellipses"}))
    assert errors(at) == []
    assert any("datasets::faithful" in plain(c.value) for c in at.caption)
    assert metrics(at)["ARI vs truth"] == "no true labels"
    figure = chart(at, "K = ")
    (data,) = [t for t in figure["data"] if t["name"] == "data"]
    assert len(data["x"]) == 272
    assert not matching(trace_names(figure), r"true .*")
    assert sidebar(at, "slider", "noise").disabled
    assert sidebar(at, "number_input", "n").disabled
    assert at.session_state["settings"].data_key.n_points == 272
    open_page(at, "pages/model_selection.py")
    assert metrics(at)["True K"] == "no true labels"
    open_page(at, "pages/restarts.py")
    assert errors(at) == []


def test_switching_to_old_faithful_keeps_the_fit_settings() -> None:
    at = run_ok(make_app({"preset": "four_blobs", "init": "k-means++", "restarts": "4"}))
    sidebar(at, "selectbox", "preset").set_value("old_faithful")
    run_ok(at)
    settings = at.session_state["settings"]
    assert settings.preset == "old_faithful" and settings.shipped
    assert (settings.init_method, settings.n_restarts) == ("k-means++", 4)
    assert (settings.k_min, settings.k_max) == SHIPPED["old_faithful"].k_range
    assert "clusters" not in at.query_params
    sidebar(at, "selectbox", "preset").set_value("four_blobs")
    run_ok(at)
    assert at.session_state["settings"].true_k == 4
    assert errors(at) == []
