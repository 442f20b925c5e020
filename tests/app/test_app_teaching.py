"""AppTest checks of the teaching views: the Step tab, preset links, coverage labels."""

from __future__ import annotations

import time

import numpy as np
import pytest

from gmm_app import em_steps
from tests.support.apptest import chart, charts, errors, make_app, matching, run_ok, trace_names

pytestmark = pytest.mark.usefixtures("navigation_mode")


def readout(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Iteration"))


def button(at, label: str):
    return next(b for b in at.button if label in b.label)


def test_the_step_tab_walks_one_fit_half_a_step_at_a_time() -> None:
    at = run_ok(make_app({"tab": "Step", "step": "5"}))
    assert errors(at) == []
    assert readout(at).startswith("**Iteration 3 · E step**")
    figure = chart(at, "Step through EM, K = 3")
    data = next(t for t in figure["data"] if t["name"] == "data")
    # After an E step every point has its own blended colour.
    assert len(set(data["marker"]["color"])) > 100
    curve = next(t for t in figure["data"] if t["name"] == "log-likelihood")
    assert len(curve["x"]) == 4  # iterations 0..3 so far
    assert [t["name"] for t in figure["data"] if t["name"] == "current"] == ["current"]

    button(at, "Next").click()
    run_ok(at)
    assert readout(at).startswith("**Iteration 3 · M step**")
    assert at.query_params["step"] == "6"
    figure = chart(at, "Step through EM, K = 3")
    names = trace_names(figure)
    # After an M step the previous ellipses are drawn faint, and arrows join old and new.
    assert len(matching(names, r"previous \d [123]σ")) == 3 * 3
    assert len(matching(names, r"fit \d [123]σ")) == 3 * 3
    assert len(figure["layout"]["annotations"]) >= 3 + 2

    button(at, "Back").click()
    run_ok(at)
    assert readout(at).startswith("**Iteration 3 · E step**")
    button(at, "Start").click()
    run_ok(at)
    assert readout(at).startswith("**Iteration 0 · start**")
    button(at, "End").click()
    run_ok(at)
    last = int(at.metric[1].value)  # the Iterations readout of the same fit
    assert readout(at).startswith(f"**Iteration {last} · M step**")
    shortcuts = {b.label: b.proto.shortcut for b in at.button if b.proto.shortcut}
    assert sorted(shortcuts.values()) == ["end", "home", "left", "right"]


def test_a_step_is_fast_and_never_refits() -> None:
    at = run_ok(make_app({"tab": "Step"}))
    timings = []
    for _ in range(4):
        start = time.perf_counter()
        button(at, "Next").click()
        run_ok(at)
        timings.append(time.perf_counter() - start)
        assert at.session_state["last_sweep"] is None or not at.session_state["last_sweep"].fresh
    # A whole AppTest rerun (the page and the fragment) on a shared, slow machine.
    assert sorted(timings)[len(timings) // 2] < 1.5, timings


@pytest.mark.parametrize("reg_covar", [1e-6, 1e-1])
def test_the_walk_matches_the_sweep(reg_covar: float) -> None:
    import gmm_core

    spec = gmm_core.PRESETS["unequal_weights"]
    X, _ = gmm_core.make_dataset(spec.centers, spec.covariances, spec.weights, 600, 0)
    result = gmm_core.sweep(
        X, 3, 3, 2, seed=0, init_params="random", max_iter=40, reg_covar=reg_covar
    )
    assert result.settings.reg_covar == reg_covar
    for restart in range(2):
        n_iter = int(result.n_iter[0, restart])
        walk = em_steps.walk(
            X,
            result.initial.weights[0, restart, :3],
            result.initial.means[0, restart, :3],
            result.initial.covariances[0, restart, :3],
            "full",
            n_iter,
            result.settings.reg_covar,
        )
        np.testing.assert_allclose(
            walk.covariances[-1], result.final.covariances[0, restart, :3], atol=1e-5
        )
        np.testing.assert_allclose(walk.means[-1], result.final.means[0, restart, :3], atol=1e-5)
        np.testing.assert_allclose(
            walk.log_likelihood[:n_iter], result.log_likelihood[0, restart, :n_iter], atol=1e-6
        )
    assert em_steps.describe(0) == (0, "start")
    assert em_steps.describe(5) == (3, "E step") and em_steps.describe(6) == (3, "M step")


def test_a_preset_link_gives_what_its_description_promises() -> None:
    at = run_ok(make_app({"preset": "k_mismatch"}))
    assert at.sidebar.slider(key="k_range").value == (1, 4)
    assert any("Look for:" in c.value for c in at.sidebar.caption)
    assert at.session_state["settings"].fit_key.k_max == 4
    at = run_ok(make_app({"preset": "k_mismatch", "k_range": ["1", "6"]}))
    assert at.sidebar.slider(key="k_range").value == (1, 6)


def test_ellipses_are_labelled_by_the_probability_they_hold() -> None:
    at = run_ok(make_app({"tab": "Ellipses", "sigmas": ["39.3% (1σ)", "90% (2.15σ)"]}))
    figure = chart(at, "K = 3")
    subtitle = figure["layout"]["title"]["subtitle"]["text"]
    assert "39.3% (1σ)" in subtitle and "90.0% (2.15σ)" in subtitle
    assert len(matching(trace_names(figure), r"fit \d 2\.14597σ")) == 3
    chooser = at.multiselect(key="sigmas")
    assert "1σ 39.3%" in chooser.help and "projected" in chooser.help
    assert charts(at)


@pytest.mark.parametrize(
    "page",
    [
        "pages/explore.py",
        "pages/model_selection.py",
        "pages/restarts.py",
        "pages/your_data.py",
        "pages/about.py",
    ],
)
def test_every_page_honours_presenter_mode(page: str) -> None:
    from tests.support.apptest import open_page

    at = run_ok(make_app({"present": "1"}))
    open_page(at, page)
    assert errors(at) == [] and at.warning.len == 0
    assert at.title.len == 0  # a one-line heading instead of title and caption
    assert any("presenter mode" in m.value for m in at.markdown)
    assert any("stSidebar" in h.proto.body for h in at.get("html"))
    for figure in charts(at):
        assert figure["layout"]["font"]["size"] >= 1.5 * 18
        assert figure["layout"]["height"] <= 460
    assert at.query_params["present"] == "1"


def test_presenter_mode_scales_fonts_lines_and_markers() -> None:
    from gmm_figures.style import BASE_FONT_SIZE

    at = run_ok(make_app({"tab": "Ellipses"}))
    plain = chart(at, "K = 3")
    at = run_ok(make_app({"tab": "Ellipses", "present": "1"}))
    (big,) = charts(at)
    assert not (big["layout"].get("title") or {}).get("text")
    assert big["layout"]["font"]["size"] == 1.5 * plain["layout"]["font"]["size"]
    assert plain["layout"]["font"]["size"] == BASE_FONT_SIZE
    widths = [t["line"]["width"] for t in big["data"] if "line" in t and "width" in t["line"]]
    plain_widths = [
        t["line"]["width"] for t in plain["data"] if "line" in t and "width" in t["line"]
    ]
    assert widths == [1.5 * w for w in plain_widths] and widths
