"""A Plotly chart that stays mounted across reruns and redraws with ``Plotly.react``.

``st.plotly_chart`` gives each new figure a new element ID (Streamlit hashes the spec
into it), so every slider move unmounts the chart and draws the next one from nothing.
:func:`live_chart` is a small Streamlit component (``st.components.v2``, in the page
itself, no frame) whose identity is the caller's ``key`` alone: the chart's div survives
reruns, and ``live_chart.js`` draws each new figure into it with ``Plotly.react``, which
changes only what differs.

Plotly.js is plotly.js's cartesian bundle (``gmm_app/vendor/plotly-cartesian.min.js``, the
same version as the installed ``plotly`` package's, with only :data:`BUNDLE_TRACE_TYPES`):
1.5 MB instead of the full bundle's 4.8 MB, which a new browser tab would parse for about
1.5 s on a 2-core machine before the first chart. It works offline. It is served from the
app's static folder (``static/``, ``server.enableStaticServing`` in
``.streamlit/config.toml``) and loaded once per browser tab; :func:`static_plotly_js`
copies it there. A server started without static serving (``streamlit run`` from another
folder, which does not read this project's config), or a figure with a trace type the
bundle lacks, gets ``st.plotly_chart`` instead.

Must not import JAX: compiled work lives in gmm_core (``tests/test_layers.py``).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import plotly
import plotly.graph_objects as go
import plotly.io
import streamlit as st

COMPONENT_NAME = "gmm_live_chart"
SCRIPT = Path(__file__).with_name("live_chart.js")
STATIC_FOLDER = Path(__file__).resolve().parent.parent / "static"  # next to app.py
PLOTLY_FILE = "plotly-cartesian.min.js"
PLOTLY_SOURCE = Path(__file__).with_name("vendor") / PLOTLY_FILE
#: The trace types in the cartesian bundle (its package's README).
BUNDLE_TRACE_TYPES = frozenset(
    {"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour"}
    | {"image", "pie", "scatter", "scatterternary", "violin"}
)


def static_plotly_js() -> Path:
    """``static/plotly-cartesian.min.js``: a copy of :data:`PLOTLY_SOURCE`, made when
    missing or different in size (another version)."""
    source = PLOTLY_SOURCE
    target = STATIC_FOLDER / PLOTLY_FILE
    if not target.is_file() or target.stat().st_size != source.stat().st_size:
        STATIC_FOLDER.mkdir(exist_ok=True)
        handle, staging = tempfile.mkstemp(dir=STATIC_FOLDER, suffix=".part")
        os.close(handle)
        shutil.copyfile(source, staging)
        os.replace(staging, target)  # atomic: a reader never sees half a file
    return target


def plotly_url() -> str:
    """Where the browser finds the static Plotly.js (Streamlit's ``app/static`` route)."""
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return "/" + "/".join(part for part in (base, "app", "static", PLOTLY_FILE) if part)


@functools.cache
def _component() -> Any:
    static_plotly_js()
    return st.components.v2.component(
        COMPONENT_NAME, js=SCRIPT.read_text(encoding="utf-8"), isolate_styles=False
    )


def live_chart(figure: go.Figure | dict, *, key: str, config: dict[str, Any] | None = None) -> None:
    """Draw ``figure`` in the chart kept under ``key`` (created on first use).

    Parameters
    ----------
    figure : the figure or figure dict; its JSON (frames included) is sent as it is
    key : the chart's identity across reruns; one key per chart on a page
    config : Plotly's config (toolbar, image export), as for ``st.plotly_chart``
    """
    if not st.get_option("server.enableStaticServing") or not in_bundle(figure):
        st.plotly_chart(figure, theme=None, key=key, config=config)
        return
    data = {
        "spec": plotly.io.to_json(figure, validate=False),
        "config": json.dumps(config or {}),
        "plotly": plotly_url(),
    }
    _component()(key=key, data=data)


def in_bundle(figure: go.Figure | dict) -> bool:
    """Whether the cartesian bundle can draw every trace of ``figure`` (a figure or dict)."""
    return all((trace["type"] or "scatter") in BUNDLE_TRACE_TYPES for trace in figure["data"])


PRELOAD_KEY = "gmm_plotly_preload"


def preload_plotly() -> None:
    """Start loading Plotly.js in the browser now, before any figure is ready.

    Called first in the sidebar, which is drawn before the page computes its sweep: the
    browser parses Plotly.js (1.5 MB) while the server works, instead of after the
    first figure arrives. Draws nothing; does nothing where charts fall back to
    ``st.plotly_chart``.
    """
    if st.get_option("server.enableStaticServing"):
        _component()(key=PRELOAD_KEY, data={"plotly": plotly_url()})
