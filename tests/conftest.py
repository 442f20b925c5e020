"""Shared pytest hooks: a summary of the figures that tests measured.

A test reports a figure with ``record_property("figure", text)``; the figures are
printed in a "measured figures" section at the end of the run, also when output is
captured or the tests run on pytest-xdist workers.
"""

from __future__ import annotations

import os

import pytest

# AppTest runs the pages in this process: sweeps run here too, not on worker processes
# (tests/test_sweep_workers.py and the browser tests cover the workers).
os.environ.setdefault("GMM_SWEEP_WORKERS", "0")


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
