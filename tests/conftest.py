"""Shared pytest hooks and fixtures: measured figures, one compilation cache, AppTest's mode.

One test run shares one JAX persistent compilation cache in a temporary directory: the
controller creates it, the xdist workers inherit it, so a sweep program compiled by one
worker is loaded, not compiled again, by the other (and by the app under AppTest, which
reads ``GMM_COMPILATION_CACHE``). Nothing is written to ``~/.cache``; the directory is
removed when the run ends.

A test reports a figure with ``record_property("figure", text)``; the figures are
printed in a "measured figures" section at the end of the run, also when output is
captured or the tests run on pytest-xdist workers.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from streamlit.runtime.pages_manager import PagesManager

_CACHE_VARIABLE = "GMM_TEST_COMPILATION_CACHE"
_OWNED_CACHE = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Create the run's compilation cache (controller) or join it (xdist worker)."""
    directory = os.environ.get(_CACHE_VARIABLE)
    if not directory:
        directory = tempfile.mkdtemp(prefix="gmm-tests-jax-")
        os.environ[_CACHE_VARIABLE] = directory
        config.stash[_OWNED_CACHE] = directory
    os.environ["GMM_COMPILATION_CACHE"] = directory
    from gmm_core.compilation_cache import enable_compilation_cache

    enable_compilation_cache(directory)
    _start_jax_on_one_device()


def _start_jax_on_one_device() -> None:
    """Start JAX's backend now, on JAX's default single CPU device.

    The tests' own processes keep that one device (tests that need more start a
    subprocess). The app's start-up asks for a device per core when JAX has not started
    yet, so without this, an xdist worker whose first JAX user is an AppTest would run
    every later test on several devices and compile programs the other cannot share.
    """
    import jax

    jax.devices()


def pytest_unconfigure(config: pytest.Config) -> None:
    """The process that created the cache removes it."""
    directory = config.stash.get(_OWNED_CACHE, None)
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.environ.pop(_CACHE_VARIABLE, None)


# AppTest runs the pages in this process: sweeps run here too, not on worker processes
# (tests/app/test_sweep_workers.py and the browser tests cover the workers).
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
