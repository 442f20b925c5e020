"""End-to-end tests of the dashboard with Streamlit's AppTest (no browser).

The figures are checked through the Plotly JSON that AppTest exposes for each
``st.plotly_chart``. Sweeps are cached for the whole process and every test keeps
n = 2000 points where it can, so the compiled programs are shared between tests.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gmm_app import cluster_table, clusters_editor, datasets, exports, fit_flow, summaries
from gmm_app.params import DEFAULTS, FIT_DEFAULTS
from gmm_app.progress import FINAL_STATUS_ICONS
from gmm_core import PRESETS
from tests.support.apptest import (
    chart,
    chart_specs,
    charts,
    errors,
    last_sweep,
    make_app,
    matching,
    open_page,
    plain_warnings,
    run_ok,
    sidebar,
    trace_names,
)

pytestmark = pytest.mark.usefixtures("navigation_mode")


PAGES = (
    "pages/explore.py",
    "pages/model_selection.py",
    "pages/restarts.py",
    "pages/your_data.py",
    "pages/about.py",
)


# --------------------------------------------------------------------------- pages


def distinct_frames(figure: dict) -> int:
    """Animation frames whose traces differ from the previous frame's."""
    frames = [json.dumps(frame["data"], sort_keys=True) for frame in figure["frames"]]
    return 1 + sum(a != b for a, b in zip(frames, frames[1:], strict=False))


def test_every_page_runs_at_the_default_settings() -> None:
    at = run_ok(make_app())
    assert at.warning.len == 0 and errors(at) == []
    # Explore opens on EM at work: the animation, beside every restart's curve.
    movie = chart(at, "EM iterations, K = 3")
    names = trace_names(movie)
    assert len(matching(names, r"true \d 1σ")) == 3
    assert len(matching(names, r"fit \d [123]σ")) == 3 * 3
    assert len(matching(names, r"restart \d+( \(highlighted\))?")) == 8
    assert distinct_frames(movie) >= 12
    first, last = movie["frames"][0]["data"], movie["frames"][-1]["data"]
    assert first != last
    assert [m.label for m in at.metric] == [
        "Final log-likelihood / point",
        "Iterations",
        "Converged",
        "ARI vs truth",
        "K chosen by BIC",
    ]
    assert at.metric[4].value == "3"
    assert int(at.metric[1].value) >= 12
    assert float(at.metric[3].value) > 0.8
    labels = [b.label for b in at.download_button]
    assert "Download figure (HTML)" in labels
    assert "Download fitted parameters (JSON)" in labels
    assert "Download data (CSV)" in labels

    open_page(at, "pages/model_selection.py")
    figure = chart(at, "Model selection")
    assert figure["data"], "model selection figure is empty"
    assert at.metric[0].value == "3"

    open_page(at, "pages/restarts.py")
    # At the defaults some restarts end in a worse local optimum.
    near_best = next(m for m in at.metric if m.label.startswith("Restarts within"))
    assert near_best.value != "100%" and int(near_best.value.rstrip("%")) >= 25
    assert len(charts(at)) == 3
    assert chart(at, "every restart")["data"]
    assert chart(at, "Init methods")["data"]
    assert at.dataframe.len >= 1
    sizes = [len(spec) for spec in chart_specs(at)]
    assert max(sizes) < 2_000_000, sizes

    open_page(at, "pages/your_data.py")
    assert at.file_uploader.len == 1 and charts(at) == []
    assert errors(at) == []

    open_page(at, "pages/about.py")
    assert len(at.page_link) == 4
    assert "fold_in(fold_in(key(seed), K), r)" in at.markdown[0].value
    # The sidebar is on every page.
    assert sidebar(at, "selectbox", "preset").value == DEFAULTS.preset


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_page_runs_for_each_preset(preset: str) -> None:
    at = run_ok(make_app({"preset": preset}))
    # The singularity preset's best fit collapses onto its clump: that one warning is the demo.
    allowed = ("collapsed",) if preset == "singularity" else ()
    assert all(any(word in w for word in allowed) for w in plain_warnings(at))
    assert errors(at) == []
    true_k = PRESETS[preset].true_k
    names = trace_names(charts(at)[0])
    true_trace = r"true \d+ density" if PRESETS[preset].n_features == 1 else r"true \d+ 1σ"
    assert len(matching(names, true_trace)) == true_k
    for page in PAGES[1:]:
        open_page(at, page)
        assert errors(at) == []
    assert sidebar(at, "selectbox", "preset").value == preset


def test_choosing_a_preset_resets_the_table_and_the_k_range() -> None:
    at = run_ok(make_app())
    sidebar(at, "selectbox", "preset").set_value("k_mismatch")
    run_ok(at)
    assert sidebar(at, "slider", "k_range").value == (1, 4)
    assert at.data_editor[0].value.shape == (6, 6)
    assert "clusters" not in at.query_params
    names = trace_names(charts(at)[0])
    assert len(matching(names, r"true \d 1σ")) == 6


# --------------------------------------------------------------------------- controls → figures


def test_k_range_changes_the_model_selection_axis_and_the_k_chooser() -> None:
    at = run_ok(make_app({"k_range": ["2", "3"]}))
    assert sidebar(at, "slider", "k_range").value == (2, 3)
    assert at.selectbox(key="k").options == ["BIC", "2", "3"]
    open_page(at, "pages/model_selection.py")
    figure = chart(at, "Model selection")
    xs = {x for trace in figure["data"] for x in (trace.get("x") or []) if isinstance(x, int)}
    assert xs == {2, 3}


def test_restarts_change_the_number_of_curves() -> None:
    at = run_ok(make_app({"restarts": "3", "tab": "Log-likelihood"}))
    names = trace_names(chart(at, "Log-likelihood"))
    assert len(matching(names, r"restart \d( \(highlighted\))?")) == 3
    assert len(matching(names, r"restart \d \(highlighted\)")) == 1
    assert at.selectbox(key="restart").options == ["best", "0", "1", "2"]


def curves(figure: dict) -> dict[str, list[float]]:
    return {
        t["name"].removesuffix(" (highlighted)"): t["y"]
        for t in figure["data"]
        if t.get("name", "").startswith("restart ")
    }


def test_new_initialisations_give_different_curves_on_the_same_data() -> None:
    at = run_ok(make_app({"tab": "Log-likelihood"}))
    before = curves(chart(at, "Log-likelihood"))
    data_before = at.session_state["settings"].data_key
    sidebar(at, "button", "new_init").click()
    run_ok(at)
    assert sidebar(at, "number_input", "init_seed").value != 0
    assert at.session_state["settings"].data_key == data_before
    after = curves(chart(at, "Log-likelihood"))
    assert before.keys() == after.keys()
    assert before != after


def test_new_data_changes_the_points_but_not_the_init_seed() -> None:
    at = run_ok(make_app())
    points_before = chart(at, "K = ")["data"][0]
    sidebar(at, "button", "new_data").click()
    run_ok(at)
    assert sidebar(at, "number_input", "data_seed").value != 0
    assert sidebar(at, "number_input", "init_seed").value == 0
    assert chart(at, "K = ")["data"][0] != points_before


def ellipse_width(figure: dict, name: str) -> float:
    (trace,) = [t for t in figure["data"] if t.get("name") == name]
    xs = [x for x in trace["x"] if x is not None]
    return max(xs) - min(xs)


def test_noise_scales_the_true_ellipses() -> None:
    at = run_ok(make_app())
    width = ellipse_width(chart(at, "K = "), "true 0 1σ")
    sidebar(at, "slider", "noise").set_value(2.0)
    run_ok(at)
    assert ellipse_width(chart(at, "K = "), "true 0 1σ") == pytest.approx(2 * width, rel=1e-3)


def set_table_edits(at: AppTest, **edits: Any) -> None:
    state = {"edited_rows": {}, "added_rows": [], "deleted_rows": []}
    state.update(edits)
    at.session_state[clusters_editor.TABLE_EDITOR_KEY] = state


def ellipse_centre_x(figure: dict, name: str) -> float:
    (trace,) = [t for t in figure["data"] if t.get("name") == name]
    xs = [x for x in trace["x"] if x is not None]
    return (max(xs) + min(xs)) / 2


def test_editing_a_cell_moves_a_true_cluster_and_goes_into_the_url() -> None:
    at = run_ok(make_app({"preset": "four_blobs", "tab": "Ellipses"}))
    set_table_edits(at, edited_rows={0: {"x": -6.0}})
    run_ok(at)
    assert ellipse_centre_x(chart(at, "K = "), "true 0 1σ") == pytest.approx(-6.0, abs=1e-6)
    assert at.query_params["clusters"].startswith("-6,-4,1,1,0,0.25;")

    set_table_edits(
        at,
        edited_rows={0: {"x": -6.0}},
        added_rows=[
            {"x": 0.0, "y": 0.0, "sigma_x": 1.0, "sigma_y": 0.5, "rotation": 30.0, "weight": 0.25}
        ],
    )
    run_ok(at)
    names = trace_names(chart(at, "K = "))
    assert len(matching(names, r"true \d 1σ")) == 5


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ({"deleted_rows": [0, 1, 2, 3]}, "The cluster table is empty"),
        ({"edited_rows": {1: {"sigma_x": -1.0}}}, "Row 2: 'spread σx' is negative"),
        ({"edited_rows": {2: {"weight": None}}}, "Row 3: 'weight' is empty"),
        ({"added_rows": [{"x": 1.0}]}, "Row 5: 'centre y' is empty"),
    ],
)
def test_an_invalid_table_shows_what_to_change(edits: dict, message: str) -> None:
    at = run_ok(make_app({"noise": "1.5", "preset": "four_blobs"}))
    set_table_edits(at, **edits)
    run_ok(at)
    assert any(e.startswith(message) for e in errors(at)), errors(at)
    assert charts(at) == []
    # Other settings stay as they were.
    assert sidebar(at, "slider", "noise").value == 1.5
    # AppTest does not send the editor's edits back like a browser does: edit again.
    set_table_edits(at, **edits)
    open_page(at, "pages/restarts.py")
    assert any(e.startswith(message) for e in errors(at))


def test_fewer_points_than_k_max_is_an_error_not_a_traceback() -> None:
    at = run_ok(make_app({"n": "3"}))
    assert len(errors(at)) == 1
    assert "lower the largest K" in errors(at)[0]
    assert sidebar(at, "slider", "k_range").value == (1, 6)
    sidebar(at, "number_input", "n").set_value(2000)
    run_ok(at)
    assert errors(at) == [] and charts(at)


# --------------------------------------------------------------------------- URL


def test_query_parameters_seed_every_control() -> None:
    table = cluster_table.preset_clusters("elongated")[:2] + ((1.5, -2.0, 0.5, 2.0, 10.0, 0.5),)
    query = {
        "preset": "elongated",
        "clusters": cluster_table.encode_clusters(table),
        "noise": "1.25",
        "n": "2000",
        "data_seed": "11",
        "k_range": ["2", "5"],
        "restarts": "8",
        "init": "kmeans",
        "cov": "diag",
        "max_iter": "50",
        "tol": "1e-04",
        "init_seed": "3",
        "k": "3",
        "restart": "2",
        "sigmas": ["2"],
        "tab": "Animation",
    }
    at = run_ok(make_app(query))
    assert at.warning.len == 0
    assert sidebar(at, "selectbox", "preset").value == "elongated"
    assert sidebar(at, "slider", "noise").value == 1.25
    assert sidebar(at, "number_input", "data_seed").value == 11
    assert sidebar(at, "slider", "k_range").value == (2, 5)
    assert sidebar(at, "selectbox", "init").value == "kmeans"
    assert sidebar(at, "selectbox", "cov").value == "diag"
    assert sidebar(at, "number_input", "max_iter").value == 50
    assert sidebar(at, "select_slider", "tol").value == 1e-4
    assert sidebar(at, "number_input", "init_seed").value == 3
    assert at.selectbox(key="k").value == 3
    assert at.selectbox(key="restart").value == 2
    assert at.multiselect(key="sigmas").value == [2]
    np.testing.assert_allclose(at.data_editor[0].value.to_numpy(), np.asarray(table))
    settings = at.session_state["settings"]
    assert settings.clusters == table and settings.fit_key.init_params == "kmeans"
    figure = chart(at, "EM iterations, K = 3, restart 2")
    names = trace_names(figure)
    assert len(matching(names, r"true \d 2σ")) == 3 and not matching(names, r"true \d 1σ")
    assert len(matching(names, r"fit \d 2σ")) == 3
    assert figure["frames"]
    # The link reproduces the view: the same query gives the same figure.
    again = run_ok(make_app(query))
    assert chart(again, "EM iterations") == figure


def test_bad_query_parameters_give_one_warning_and_defaults() -> None:
    query = {
        "n": "lots",
        "init": ["kmeans", "k-means++"],
        "noise": "9",
        "k_range": ["1", "2", "3"],
        "clusters": "1,2,3",
        "cov": "<script>alert(1)</script>",
        "[click](http://example.com)": "1",
    }
    at = run_ok(make_app(query))
    # Only the ignored-link warning (noise 3 may also leave fits stuck at a saddle).
    ignored = [w.value for w in at.warning if "link were ignored" in w.value]
    assert len(ignored) == 1
    text = ignored[0]
    for key in ("n", "init", "noise", "k\\_range", "clusters", "cov"):
        assert key in text
    assert "](http" not in text and "<script>" not in text
    assert sidebar(at, "number_input", "n").value == 2000
    assert sidebar(at, "selectbox", "init").value == "random" == FIT_DEFAULTS.init_params
    assert sidebar(at, "slider", "noise").value == 3.0
    assert sidebar(at, "slider", "k_range").value == (1, 6)
    assert sidebar(at, "selectbox", "cov").value == "full"
    assert at.session_state["settings"].clusters == cluster_table.preset_clusters(DEFAULTS.preset)
    assert dict(at.query_params) == {"noise": "3"}
    assert errors(at) == [] and charts(at)
    # The warning is shown once, not on every rerun.
    run_ok(at)
    assert not [w for w in at.warning if "link were ignored" in w.value]


# --------------------------------------------------------------------------- fragment, speed


def test_choosing_k_and_restart_does_not_refit() -> None:
    at = run_ok(make_app())
    at.selectbox(key="k").set_value(2)
    run_ok(at)
    assert not last_sweep(at).fresh
    assert "K = 2, restart" in chart(at, "K = ")["layout"]["title"]["text"]
    at.selectbox(key="restart").set_value(5)
    run_ok(at)
    assert chart(at, "K = 2, restart 5")
    at.multiselect(key="sigmas").set_value([1])
    run_ok(at)
    names = trace_names(chart(at, "K = 2, restart 5"))
    assert len(matching(names, r"fit \d 1σ")) == 2 and not matching(names, r"fit \d 2σ")
    at.multiselect(key="sigmas").set_value([])
    run_ok(at)
    names = trace_names(chart(at, "K = 2, restart 5"))
    # No radius picked: no ellipses, the initial and fitted means only.
    assert not matching(names, r"(fit|true) \d [123]σ")
    assert "fit means" in names and "initial means" in names
    assert not last_sweep(at).fresh
    # A sidebar change does refit, and the fit flow's record says so.
    sidebar(at, "number_input", "init_seed").set_value(12345)
    run_ok(at)
    assert last_sweep(at).fresh


def test_animation_has_one_frame_per_kept_snapshot_within_budget() -> None:
    at = run_ok(make_app({"tab": "Animation"}))
    figure = chart(at, "EM iterations")
    result = fit_flow.sweep_synthetic(
        at.session_state["settings"].data_key, at.session_state["settings"].fit_key
    ).result
    k = result.best_k()
    last = int(result.n_iter[result.k_index(k)].max())
    expected = int(np.sum(result.snapshot_iterations <= last))
    assert 2 <= len(figure["frames"]) == expected <= 150
    assert len(json.dumps(figure)) < 2_000_000
    assert matching(trace_names(figure), r"restart \d( \(highlighted\))?")
    assert "initial means" in trace_names(figure)


def test_status_reports_the_sweep_timing() -> None:
    at = run_ok(make_app())
    (status,) = [box for box in at.expander if box.label.startswith("Sweep of")]
    assert re.fullmatch(
        r"Sweep of 6 K values × 8 restarts(: compiled in [\d.]+ s, ran in [\d.]+ s"
        r"| ran in [\d.]+ s( \(cached\))?)",
        status.label,
    ), status.label
    # drawn once, finished (the bar showed the run), with st.status's icon for "complete"
    assert status.icon == FINAL_STATUS_ICONS["complete"] == ":material/check:"


def test_warm_rerun_after_a_slider_change_is_fast(record_property) -> None:
    at = run_ok(make_app())
    run_ok(at)  # warm: compiled program, modules and caches in place
    timings = []
    for noise in (1.05, 1.1, 1.15):
        sidebar(at, "slider", "noise").set_value(noise)
        started = time.perf_counter()
        run_ok(at)
        timings.append(time.perf_counter() - started)
    record_property(
        "figure",
        f"warm AppTest rerun after a noise-slider change (new data, refit, redraw): "
        f"median {statistics.median(timings):.3f} s, max {max(timings):.3f} s "
        f"(runs: {', '.join(f'{t:.3f}' for t in timings)})",
    )
    assert max(timings) < 2.0


def test_fitted_parameters_export_as_json() -> None:
    at = run_ok(make_app({"preset": "four_blobs", "init": "k-means++"}))
    settings = at.session_state["settings"]
    result = fit_flow.sweep_synthetic(settings.data_key, settings.fit_key).result
    fit = summaries.fit_view(result, 3, 1)
    document = json.loads(exports.fit_json(result, fit, settings=settings.as_dict()))
    assert document["shown_fit"]["k"] == 3 and document["shown_fit"]["restart"] == 1
    np.testing.assert_allclose(document["shown_fit"]["means"], result.final.means[2, 1, :3])
    assert document["k_chosen_by_bic"] == 4
    assert [entry["k"] for entry in document["best_fit_per_k"]] == [1, 2, 3, 4, 5, 6]
    assert document["settings"]["clusters"] == [list(r) for r in settings.clusters]
    csv = exports.dataset_csv(*datasets.synthetic_data(settings.data_key)).decode()
    assert csv.splitlines()[0] == "x,y,true_cluster" and len(csv.splitlines()) == 2001


# --------------------------------------------------------------------------- uploads


def good_csv() -> bytes:
    """Two well-separated 3-D blobs of 150 rows, a text column and two incomplete rows."""
    rng = np.random.default_rng(1)
    points = rng.normal(size=(300, 3)) + np.repeat([[0, 0, 0], [6, 6, 6]], 150, axis=0)
    rows = [f"{x:.4f},{y:.4f},{z:.4f},{'pq'[i % 2]}" for i, (x, y, z) in enumerate(points)]
    return "\n".join(["a,b,c,label", *rows, "1.0,,2.0,q", "nan,1,2,p"]).encode()


GOOD_CSV = good_csv()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,city\nann,paris\nbob,rome\n", "No numeric columns found"),
        (b"a,b\nnan,nan\n,\n", "No numeric columns found"),
        (b"a\n1\n", "Only 1 point but the K range goes up to 6"),
        (b"", "The uploaded file is empty"),
        (b"a,b\n1,2\n", "Only 1 point but the K range goes up to 6"),
    ],
)
def test_bad_csv_files_show_a_clear_error(content: bytes, message: str) -> None:
    at = run_ok(make_app())
    open_page(at, "pages/your_data.py")
    at.file_uploader[0].upload("data.csv", content, "text/csv")
    run_ok(at)
    assert len(errors(at)) == 1
    assert errors(at)[0].replace("\\", "").startswith(message), errors(at)
    assert charts(at) == []


def test_a_good_csv_is_fitted_in_full_dimension() -> None:
    at = run_ok(make_app({"k_range": ["1", "3"], "init": "k-means++", "tab": "Ellipses"}))
    open_page(at, "pages/your_data.py")
    at.file_uploader[0].upload("data.csv", GOOD_CSV, "text/csv")
    run_ok(at)
    # Its text column of two values is offered as the truth; here it is unmarked.
    assert at.selectbox(key="upload_labels").value == "label"
    at.selectbox(key="upload_labels").set_value("none")
    run_ok(at)
    assert errors(at) == []
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows read"] == "302"
    assert metrics["Rows dropped"] == "2"
    assert metrics["Numeric columns"] == "3" and metrics["Ignored columns"] == "1"
    assert metrics["K chosen by BIC"] == "2"
    assert metrics["ARI: no true labels"] == "—"
    figure = chart(at, "K = 2")
    names = trace_names(figure)
    assert not matching(names, r"true .*")
    assert len(matching(names, r"fit \d [123]σ")) == 2 * 3
    fit = at.session_state["settings"].fit_key
    result = fit_flow.sweep_uploaded(GOOD_CSV, ("a", "b", "c"), fit).result
    assert result.n_features == 3 and result.n_samples == 300
    # Two chosen columns instead of the principal components.
    at.selectbox(key="view").set_value("Columns")
    run_ok(at)
    assert at.selectbox(key="upload_x").value == "a"
    assert chart(at, "K = 2")


# --------------------------------------------------------------------------- Streamlit quirks


def test_pages_keep_the_sidebar_in_legacy_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the fixture's patch AppTest reruns a page without app.py; the page draws it."""
    monkeypatch.undo()
    at = run_ok(make_app())
    at.switch_page("pages/model_selection.py")
    run_ok(at)
    run_ok(at)
    assert sidebar(at, "selectbox", "preset").value == DEFAULTS.preset
    assert chart(at, "Model selection")


def test_choosing_k_on_the_restarts_page_redraws_its_charts_without_a_refit() -> None:
    at = make_app()
    open_page(at, "pages/restarts.py")
    assert chart(at, "Final fit of every restart, K = 3")
    at.selectbox(key="k").set_value(2)
    run_ok(at)
    assert chart(at, "Final fit of every restart, K = 2")
    assert chart(at, "Final log-likelihoods, K = 2")
    assert chart(at, "Init methods, K = 2")
    assert not last_sweep(at).fresh
