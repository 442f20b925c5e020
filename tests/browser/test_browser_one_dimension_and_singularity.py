"""Chromium views of the singularity demo, the one-dimensional mode and a labelled upload.

Uses the browser fixtures of ``tests/browser/conftest.py`` (a server of its own for this
module). ``UPDATE_SCREENSHOTS=1`` saves each view at 1280×720, and in presenter mode, under
``docs/screenshots/``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.support.browser import (
    RENDER_MS,
    SCREENSHOTS,
    assert_no_exception,
    chart,
    charts,
    settle,
    skip_module_without_browser,
    wait_until,
)
from tests.support.uploads import iris_like_csv

pytestmark = pytest.mark.browser
skip_module_without_browser()
SCREEN = {"width": 1280, "height": 720}


def _open(context: Any, url: str, upload: bytes | None = None) -> Any:
    page = context.new_page()
    page.set_viewport_size(SCREEN)
    page.goto(url)
    if upload is not None:
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            {"name": "iris.csv", "mimeType": "text/csv", "buffer": upload}
        )
    wait_until(page, lambda: len(charts(page)) >= 1, RENDER_MS)
    settle(page, RENDER_MS)
    assert_no_exception(page)
    return page


def _photograph(page: Any, name: str) -> None:
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # The chart is the view: scroll it to the bottom of the 1280×720 screen.
        page.locator(".js-plotly-plot").first.evaluate("e => e.scrollIntoView({block: 'end'})")
        page.mouse.move(0, 0)
        page.wait_for_timeout(800)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _metric(page: Any, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]', has_text=label)
    return box.locator('[data-testid="stMetricValue"]').inner_text()


@pytest.mark.parametrize("present", ["", "&present=1"])
def test_singularity_view(server: Any, context: Any, present: str) -> None:
    page = _open(context, f"{server.url}/?preset=singularity&k=2&tab=Ellipses{present}")
    figure = chart(page, "") if present else chart(page, "K = 2")
    assert figure.count(r"fit \d+ \dσ") >= 2
    assert "collapsed" in page.locator('[data-testid="stAlert"]').first.inner_text()
    if not present:
        assert float(_metric(page, "Smallest covariance eigenvalue")) < 1e-4
    _photograph(page, "singularity" + ("_presenter" if present else ""))


@pytest.mark.parametrize("present", ["", "&present=1"])
def test_one_dimensional_view(server: Any, context: Any, present: str) -> None:
    page = _open(context, f"{server.url}/?preset=bimodal_1d&tab=Animation{present}")
    (movie,) = charts(page)
    assert movie.count(r"fit \d+ density") >= 2 and movie.count("true mixture") == 1
    n_frames = page.evaluate(
        "() => document.querySelector('.js-plotly-plot')._transitionData._frames.length"
    )
    assert n_frames >= 5
    _photograph(page, "one_dimensional" + ("_presenter" if present else ""))


@pytest.mark.parametrize("present", ["", "?present=1"])
def test_labelled_upload_view(server: Any, context: Any, present: str) -> None:
    page = _open(context, f"{server.url}/your_data{present}", upload=iris_like_csv())
    (figure,) = charts(page)
    assert figure.count(r"true \d 1σ") == 3
    axis = page.locator(".xtitle").first.text_content()
    assert axis.startswith("PC 1 (") and axis.endswith("% of variance)"), axis
    if not present:
        assert float(_metric(page, "ARI vs truth")) > 0.8
    _photograph(page, "labelled_upload" + ("_presenter" if present else ""))
