"""Running the dashboard under Streamlit's AppTest and reading what it shows.

Every test module that runs ``app.py`` under AppTest uses these; the
``navigation_mode`` fixture that such modules need lives in ``tests/conftest.py``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from gmm_app import fit_flow, live_chart

# app.py turns on JAX's persistent compilation cache; tests must not write to ~/.cache.
os.environ.setdefault("GMM_COMPILATION_CACHE", "")

ROOT = Path(__file__).resolve().parent.parent.parent
APP = ROOT / "app.py"
TIMEOUT = 300
Query = dict[str, str | list[str]]


def make_app(query: Query | None = None, *, timeout: float = TIMEOUT) -> AppTest:
    """An AppTest of ``app.py``, opened with the given query parameters."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    if query:
        at.query_params = dict(query)
    return at


def run_ok(at: AppTest) -> AppTest:
    """Run and check that no exception reached the page."""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    """Switch to ``page`` (e.g. ``"pages/restarts.py"``) and run it."""
    at.switch_page(page)
    return run_ok(at)


def _no_constant(token: str) -> float:
    raise AssertionError(f"{token} in a figure's JSON")


def is_live_chart(node: Any) -> bool:
    """Whether an AppTest node is a :func:`gmm_app.live_chart.live_chart` component."""
    return node.type == "bidi_component" and node.proto.component_name == live_chart.COMPONENT_NAME


def live_chart_nodes(block: Any) -> list[tuple[str, dict]]:
    """(element ID, data) of every live chart component in ``block`` (``at.main``,
    ``at.sidebar``), in page order."""
    return [(node.proto.id, json.loads(node.proto.json)) for node in block if is_live_chart(node)]


def _chart_texts(at: AppTest) -> list[tuple[str, str]]:
    """(figure JSON, config JSON) of every chart in page order: live charts and
    ``st.plotly_chart``."""
    found = []
    for node in at.main:
        if node.type == "plotly_chart":
            found.append((node.proto.spec, node.proto.config))
        elif is_live_chart(node):
            data = json.loads(node.proto.json)
            found.append((data["spec"], data["config"]))
    return found


def chart_specs(at: AppTest) -> list[str]:
    """Every chart's figure JSON text, in page order."""
    return [spec for spec, _ in _chart_texts(at)]


def chart_configs(at: AppTest) -> list[dict]:
    """Every chart's Plotly config (toolbar, image export), in page order."""
    return [json.loads(config) for _, config in _chart_texts(at)]


def charts(at: AppTest) -> list[dict]:
    """Every figure's JSON, parsed strictly: NaN and Infinity are not allowed."""
    return [json.loads(spec, parse_constant=_no_constant) for spec in chart_specs(at)]


def chart(at: AppTest, title_part: str) -> dict:
    """The one figure whose title contains ``title_part``."""
    found = [c for c in charts(at) if title_part in c["layout"].get("title", {}).get("text", "")]
    assert len(found) == 1, [c["layout"].get("title") for c in charts(at)]
    return found[0]


def trace_names(figure: dict) -> list[str]:
    return [trace.get("name", "") for trace in figure["data"]]


def matching(names: list[str], pattern: str) -> list[str]:
    return [name for name in names if re.fullmatch(pattern, name)]


def plain(text: str) -> str:
    """Markdown-escaped message text without its backslashes."""
    return text.replace("\\", "")


def errors(at: AppTest) -> list[str]:
    """The error messages on the page, as written (Markdown escapes kept)."""
    return [e.value for e in at.error]


def plain_errors(at: AppTest) -> list[str]:
    return [plain(e.value) for e in at.error]


def plain_warnings(at: AppTest) -> list[str]:
    return [plain(w.value) for w in at.warning]


def sidebar(at: AppTest, kind: str, key: str) -> Any:
    """The sidebar widget of ``kind`` (e.g. ``"slider"``) with ``key``."""
    return getattr(at.sidebar, kind)(key=key)


def last_sweep(at: AppTest) -> fit_flow.SweepRun | None:
    """The fit flow's record of the page's sweep on the last run (None: it did not run)."""
    try:
        return at.session_state[fit_flow.LAST_SWEEP]
    except KeyError:
        return None
