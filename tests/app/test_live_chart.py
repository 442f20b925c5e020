"""The live chart: one element per chart key across reruns, Plotly.js from the static folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import plotly
import plotly.graph_objects as go
import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from gmm_app import live_chart
from tests.support.apptest import is_live_chart, live_chart_nodes, make_app, run_ok

pytestmark = pytest.mark.usefixtures("navigation_mode")
FIGURES = Path(live_chart.__file__).resolve().parent.parent / "gmm_figures"


def test_a_slider_move_redraws_the_same_chart_element() -> None:
    at = run_ok(make_app())
    ((first_id, first),) = live_chart_nodes(at.main)
    at.sidebar.slider(key="noise").set_value(at.sidebar.slider(key="noise").value + 0.1)
    run_ok(at)
    ((second_id, second),) = live_chart_nodes(at.main)
    assert second["spec"] != first["spec"]  # a new figure…
    assert second_id == first_id  # …drawn into the same element, so the browser keeps it
    assert first["plotly"] == second["plotly"] == "/app/static/plotly-cartesian.min.js"


def test_the_sidebar_starts_loading_plotly_js_before_the_page_computes() -> None:
    at = run_ok(make_app())
    ((_, preload),) = live_chart_nodes(at.sidebar)
    assert preload == {"plotly": "/app/static/plotly-cartesian.min.js"}  # a URL and no figure
    sidebar_order = [node.type for node in at.sidebar.children.values()]
    assert is_live_chart(next(iter(at.sidebar.children.values())))  # before every control
    assert "header" in sidebar_order[1:]


def test_plotly_js_is_copied_once_into_the_static_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_chart, "STATIC_FOLDER", tmp_path / "static")
    copied = live_chart.static_plotly_js()
    assert copied.read_bytes() == live_chart.PLOTLY_SOURCE.read_bytes()
    written = copied.stat().st_mtime_ns
    assert live_chart.static_plotly_js().stat().st_mtime_ns == written
    assert [p.name for p in (tmp_path / "static").iterdir()] == [live_chart.PLOTLY_FILE]


def test_the_plotly_url_follows_the_base_url_path() -> None:
    before = config.get_option("server.baseUrlPath")
    try:
        config.set_option("server.baseUrlPath", "/teaching/gmm/")
        assert live_chart.plotly_url() == "/teaching/gmm/app/static/plotly-cartesian.min.js"
    finally:
        config.set_option("server.baseUrlPath", before)
    assert live_chart.plotly_url() == "/app/static/plotly-cartesian.min.js"


def test_without_static_serving_the_charts_are_plain_plotly_charts() -> None:
    before = config.get_option("server.enableStaticServing")
    try:
        config.set_option("server.enableStaticServing", False)
        at = run_ok(make_app())
    finally:
        config.set_option("server.enableStaticServing", before)
    assert live_chart_nodes(at.main) == []
    assert live_chart_nodes(at.sidebar) == []  # nothing to preload either
    (node,) = at.get("plotly_chart")
    assert json.loads(node.proto.spec)["data"]


def _plotly_js_version(path: Path) -> str:
    """The version in a plotly.js bundle's header comment."""
    header = path.read_bytes()[:400].decode()
    match = re.search(r"plotly\.js (?:\([^)]*\) )?v(\d+\.\d+\.\d+)", header)
    assert match, header
    return match.group(1)


def test_the_served_bundle_is_the_installed_plotlys_plotly_js_version() -> None:
    installed = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert _plotly_js_version(live_chart.PLOTLY_SOURCE) == _plotly_js_version(installed)


def test_every_trace_type_the_figures_make_is_in_the_bundle() -> None:
    source = "\n".join(path.read_text() for path in FIGURES.glob("*.py"))
    classes = set(re.findall(r"go\.([A-Z][A-Za-z]+)\(", source)) - {"Figure", "Frame"}
    written = set(re.findall(r'"type": "([a-z0-9]+)"', source)) - {"buttons"}
    used = {name.lower() for name in classes} | written
    assert "scatter" in used and "heatmap" in used
    assert used <= live_chart.BUNDLE_TRACE_TYPES, used - live_chart.BUNDLE_TRACE_TYPES


def _draw_a_3d_figure() -> None:
    import plotly.graph_objects as go

    from gmm_app.live_chart import live_chart

    live_chart(go.Figure([go.Scatter3d(x=[1], y=[2], z=[3])]), key="chart_3d")


def test_a_figure_with_a_trace_type_outside_the_bundle_is_a_plain_plotly_chart() -> None:
    assert live_chart.in_bundle(go.Figure([go.Scatter(x=[1]), go.Heatmap(z=[[1]])]))
    assert not live_chart.in_bundle(go.Figure([go.Scatter(x=[1]), go.Scatter3d(x=[1])]))
    at = AppTest.from_function(_draw_a_3d_figure)
    at.run()
    assert not at.exception
    assert live_chart_nodes(at.main) == []
    (node,) = at.get("plotly_chart")
    assert json.loads(node.proto.spec)["data"][0]["type"] == "scatter3d"
