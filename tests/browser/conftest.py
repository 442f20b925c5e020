"""Fixtures of the real-browser tests: one app server and one Chromium per test module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from gmm_app import sweep_workers
from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    MISSING_BROWSER,
    VIEWPORT,
    Server,
    free_port,
    start_server,
    stop_server,
)


@pytest.fixture(scope="module")
def browser_ready() -> None:
    """Fail every browser test under CI=true when Chromium or Playwright is missing.

    Outside CI the module is skipped at import with the same one-line reason.
    """
    if MISSING_BROWSER is not None:
        pytest.fail(f"CI=true and the browser tests cannot run: {MISSING_BROWSER}", pytrace=False)


@pytest.fixture(scope="module")
def server_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment of every test server: a private persistent compilation cache they share."""
    cache = str(tmp_path_factory.mktemp("jax_cache"))
    return {
        **os.environ,
        "GMM_COMPILATION_CACHE": cache,
        "JAX_COMPILATION_CACHE_DIR": cache,
        "PYTHONUNBUFFERED": "1",
        "GMM_SWEEP_WORKERS": str(sweep_workers.DEFAULT_WORKERS),
    }


@pytest.fixture(scope="module")
def server(
    browser_ready: None, server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One app server for the module; stopped afterwards even when a test fails."""
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    running = start_server(free_port(), log, server_env)
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture(scope="module")
def browser(browser_ready: None) -> Iterator[Any]:
    """One headless system Chromium for the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser context (own cookies and sessions) per test."""
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        yield ctx
    finally:
        ctx.close()
