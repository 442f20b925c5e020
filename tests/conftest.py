"""Shared pytest hooks and fixtures: measured figures, and AppTest's navigation mode.

A test reports a figure with ``record_property("figure", text)``; the figures are
printed in a "measured figures" section at the end of the run, also when output is
captured or the tests run on pytest-xdist workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from streamlit.runtime.pages_manager import PagesManager


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print every recorded figure, one line per figure."""
    lines = [
        f"{report.nodeid.split('::')[-1]}: {value}"
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", ())
        if name == "figure"
    ]
    if lines:
        terminalreporter.section("measured figures")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture
def navigation_mode(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run every AppTest rerun through ``app.py``, as a server does once it has run it.

    AppTest rebuilds its ``PagesManager`` before each run, and a ``pages/`` folder next
    to the script makes it run the requested page on its own (Streamlit's legacy
    multipage mode) until ``st.navigation`` switches that off. A live server switches
    it off on its first run for good. ``test_pages_keep_the_sidebar_in_legacy_mode``
    covers the unpatched behaviour. AppTest modules use it with
    ``pytestmark = pytest.mark.usefixtures("navigation_mode")``.
    """
    original = PagesManager.__init__

    def init(self: PagesManager, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)
    yield
