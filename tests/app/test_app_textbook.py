"""AppTest checks of the textbook figure: the Old Faithful preset, the Panels tab, exports."""

from __future__ import annotations

import numpy as np
import pytest

from gmm_core import SHIPPED
from tests.support.apptest import (
    chart,
    chart_configs,
    errors,
    last_sweep,
    make_app,
    matching,
    open_page,
    plain,
    run_ok,
    sidebar,
    trace_names,
)

pytestmark = pytest.mark.usefixtures("navigation_mode")

TEXTBOOK = {"preset": "old_faithful", "init_means": "-1.5,1;1.5,-1", "tol": "1e-06"}


PURE = np.array([[0, 114, 178], [213, 94, 0]])  # the two component colours


def blending(colors: list[str]) -> float:
    """Mean distance of the points' colours to the nearest component colour, 0 to 1."""
    rgb = np.array([[float(v) for v in c[5:-1].split(",")[:3]] for c in colors])
    distance = np.min(np.linalg.norm(rgb[:, None] - PURE[None], axis=-1), axis=1)
    return float(np.mean(distance) / 255)


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_old_faithful_is_real_data_with_its_source_and_no_truth() -> None:
    at = run_ok(make_app({"preset": "old_faithful", "tab": "Ellipses"}))
    assert errors(at) == []
    assert any("datasets::faithful" in plain(c.value) for c in at.caption)
    assert metrics(at)["ARI: no true labels"] == "—"
    assert "ARI vs truth" not in metrics(at)
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
    assert (settings.fit.init_params, settings.fit.n_restarts) == ("k-means++", 4)
    assert (settings.fit.k_min, settings.fit.k_max) == SHIPPED["old_faithful"].k_range
    assert "clusters" not in at.query_params
    sidebar(at, "selectbox", "preset").set_value("four_blobs")
    run_ok(at)
    assert at.session_state["settings"].true_k == 4
    assert errors(at) == []


def panel_titles(figure: dict) -> list[str]:
    return [a["text"] for a in figure["layout"]["annotations"] if a["text"].startswith("Iter")]


def test_the_panels_tab_shows_one_fit_at_the_chosen_iterations() -> None:
    at = run_ok(make_app({**TEXTBOOK, "tab": "Panels", "panels": "0,1,2,5,20"}))
    assert errors(at) == [] and not at.warning
    figure = chart(at, "EM at chosen iterations, K = 2")
    data = [t for t in figure["data"] if t["name"].startswith("data ")]
    assert [len(t["x"]) for t in data] == [272] * 5
    assert panel_titles(figure)[:4] == ["Iteration 0", "Iteration 1", "Iteration 2", "Iteration 5"]
    names = trace_names(figure)
    assert all(len(matching(names, rf"fit {p} [01] 1σ")) == 2 for p in range(5))
    # Responsibilities colour the points, blended where the components compete,
    assert len(set(data[1]["marker"]["color"])) > 50
    # and they change as the ellipses move.
    early, late = (blending(data[p]["marker"]["color"]) for p in (1, 4))
    assert abs(late - early) > 0.02, (early, late)
    first, last = (next(t for t in figure["data"] if t["name"] == f"means {p}") for p in (0, 4))
    assert max(abs(a - b) for a, b in zip(first["x"], last["x"], strict=True)) > 0.5
    # The book's start: the two means placed away from both clusters.
    start = sorted(zip(first["x"], first["y"], strict=True))
    np.testing.assert_allclose(start, [(-1.5, 1.0), (1.5, -1.0)], atol=1e-3)
    assert any("Data: Old Faithful" in a["text"] for a in figure["layout"]["annotations"])

    # Export for slides: the toolbar saves PNG at 2× or SVG, named after the settings.
    (config,) = chart_configs(at)
    options = config["toImageButtonOptions"]
    assert options == {"format": "png", "scale": 2, "filename": "gmm_old_faithful_explore_panels"}
    at.sidebar.radio(key="image_format").set_value("svg")
    run_ok(at)
    (config,) = chart_configs(at)
    assert config["toImageButtonOptions"]["format"] == "svg"


def test_late_and_bad_panels_are_explained_and_the_default_kept() -> None:
    at = run_ok(make_app({**TEXTBOOK, "tab": "Panels", "panels": "0,999"}))
    last = int(metrics(at)["Iterations"])
    figure = chart(at, "EM at chosen iterations")
    assert panel_titles(figure) == ["Iteration 0", f"Iteration 999 (ended at {last})"]
    assert any("show its final state" in plain(c.value) for c in at.caption)

    at = run_ok(make_app({**TEXTBOOK, "tab": "Panels", "panels": "1,x"}))
    assert any("panels" in plain(w.value) for w in at.warning), [w.value for w in at.warning]
    assert "panels" not in at.query_params
    figure = chart(at, "EM at chosen iterations")
    assert len(panel_titles(figure)) == 5
    at.text_input(key="panels").set_value("3,abc")
    run_ok(at)
    assert any("Iterations shown" in plain(w.value) for w in at.warning)
    assert len(panel_titles(chart(at, "EM at chosen iterations"))) == 5


def test_the_textbook_start_is_two_circles_that_reach_both_clusters_by_iteration_20() -> None:
    at = run_ok(make_app({**TEXTBOOK, "tab": "Panels", "panels": "0,1,2,5,20"}))
    result = last_sweep(at).result
    assert result.k_values.tolist() == [2]
    # Bishop's start: precisions proportional to the unit matrix, the same for both.
    for start in result.initial.covariances[0, 0, :2]:
        np.testing.assert_allclose(start, start[0, 0] * np.eye(2), atol=1e-9)
    trace = result.log_likelihood[0, 0]
    final = result.final_log_likelihood[0, 0]
    assert final > -1.42, final  # the two-cluster optimum, not the diagonal strips (-1.99)
    assert abs(trace[20] - final) < 0.01, (trace[20], final)
    assert trace[5] < final - 0.1  # the middle panels still show EM on its way
