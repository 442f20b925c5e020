"""AppTest checks of steering EM: placed initial means (``init_means``) and the uncertainty view."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.apptest import (
    chart,
    charts,
    errors,
    last_sweep,
    make_app,
    plain_warnings,
    run_ok,
    trace_names,
)

pytestmark = pytest.mark.usefixtures("navigation_mode")

PLACED = np.array([[-4.0, -3.0], [4.5, 2.0], [0.5, 5.0]])
PLACED_TEXT = ";".join(f"{x:g},{y:g}" for x, y in PLACED)


def test_init_means_in_the_url_give_a_fit_that_starts_there() -> None:
    at = run_ok(make_app({"init_means": PLACED_TEXT, "tab": "Animation"}))
    assert errors(at) == [] and plain_warnings(at) == []
    result = last_sweep(at).result
    assert result.k_values.tolist() == [3] and result.n_restarts == 1
    np.testing.assert_allclose(result.initial.means[0, 0, :3], PLACED, atol=1e-9)
    np.testing.assert_allclose(result.initial.weights[0, 0, :3], 1 / 3)
    points = at.session_state["settings"]
    assert points.init_means == tuple(map(tuple, PLACED.tolist()))
    # One shared start covariance: a circle as wide as the data (+ reg_covar).
    start = result.initial.covariances[0, 0, :3]
    np.testing.assert_allclose(start[0], start[1])
    np.testing.assert_allclose(start[0], start[2])
    assert result.settings.start_means == points.init_means
    # The animation's first frame draws its means at the placed ones.
    movie = chart(at, "EM iterations, K = 3")
    first = movie["frames"][0]
    assert movie["frames"][0]["name"] == "0"
    initial = next(t for t in movie["data"] if t["name"] == "initial means")
    np.testing.assert_allclose(np.c_[initial["x"], initial["y"]], PLACED, atol=1e-3)
    frame_means = [t for t in first["data"] if "x" in t and len(t["x"]) == 3]
    assert any(np.allclose(np.c_[t["x"], t["y"]], PLACED, atol=1e-3) for t in frame_means)
    assert any("3 placed means" in c.value for c in at.caption)
    assert any("Placed means" in c.value for c in at.sidebar.caption)


def test_the_step_tab_starts_at_the_placed_means() -> None:
    at = run_ok(make_app({"init_means": PLACED_TEXT, "tab": "Step", "step": "0"}))
    figure = chart(at, "Step through EM, K = 3")
    means = next(t for t in figure["data"] if t["name"] == "means")
    np.testing.assert_allclose(np.c_[means["x"], means["y"]], PLACED, atol=1e-3)


@pytest.mark.parametrize(
    "bad", ["0,0;abc", "1,2,3", "nan,1", "1,1;1,1", ";".join(["1,1"] * 13), "1e9,0"]
)
def test_bad_init_means_warn_and_keep_the_other_settings(bad: str) -> None:
    at = run_ok(make_app({"init_means": bad, "preset": "four_blobs", "tab": "Ellipses"}))
    ignored = [w for w in plain_warnings(at) if "link were ignored" in w]
    assert len(ignored) == 1 and "init_means" in ignored[0], ignored
    assert "init_means" not in at.query_params
    assert at.query_params["preset"] == "four_blobs"
    assert at.session_state["settings"].init_means == ()
    assert last_sweep(at).result.k_values.tolist() == list(range(1, 7))


def test_the_uncertainty_toggle_draws_heatmap_contours_and_coloured_points() -> None:
    at = run_ok(make_app({"uncertainty": "true"}))
    assert errors(at) == [] and plain_warnings(at) == []
    assert at.toggle(key="uncertainty").value is True
    figure = chart(at, "Uncertainty, K = 3")
    names = trace_names(figure)
    assert names == ["uncertainty", "density", "data", "means"]
    heatmap = figure["data"][0]
    assert heatmap["type"] == "heatmap"
    entropy = np.asarray(heatmap["z"], dtype=float)
    assert entropy.min() >= 0 and entropy.max() <= 1 and entropy.max() > 0.5
    assert figure["data"][1]["type"] == "contour"
    # Final fit: most points belong to one component, a few are shared.
    final_colors = figure["data"][2]["marker"]["color"]
    assert 3 <= len(set(final_colors)) < len(final_colors)
    frames = figure["frames"]
    assert 2 <= len(frames) <= 12 and frames[0]["name"] == "0"
    # At the start (random responsibilities) every point is shared: faint blended colours
    # and a plane of high entropy; by the end the points are sure and the entropy fell.
    start = frames[0]["data"]
    assert np.median(alphas(start[2]["marker"]["color"])) < 0.7 < np.median(alphas(final_colors))
    assert np.mean(start[0]["z"]) > np.mean(entropy)
    assert any("entropy" in c.value for c in at.caption)
    at.toggle(key="uncertainty").set_value(False)
    run_ok(at)
    titles = [figure["layout"]["title"]["text"] for figure in charts(at)]
    assert titles and not any("Uncertainty" in title for title in titles)
    assert any("EM iterations" in title for title in titles)


def alphas(colors: list[str]) -> np.ndarray:
    """The opacity of every ``rgba(r,g,b,a)`` colour."""
    return np.array([float(c.rstrip(")").split(",")[-1]) for c in colors])


def test_the_placing_mode_starts_from_the_linked_means_and_clear_removes_them() -> None:
    at = run_ok(make_app({"init_means": PLACED_TEXT, "tab": "Ellipses"}))
    at.toggle(key="explore_placing").set_value(True)
    run_ok(at)
    figure = chart(at, "Click to place initial means: K = 3")
    assert trace_names(figure) == ["data", "click grid", "placed means"]
    stars = figure["data"][2]
    np.testing.assert_allclose(np.c_[stars["x"], stars["y"]], PLACED)
    assert figure["data"][1]["marker"]["opacity"] == 0 and len(figure["data"][1]["x"]) == 2500
    next(b for b in at.button if b.label == "Clear").click()
    run_ok(at)
    assert at.session_state["settings"].init_means == ()
    assert last_sweep(at).result.k_values.tolist() == list(range(1, 7))
    assert chart(at, "Click to place initial means: K = 0")["data"][2]["x"] == []
