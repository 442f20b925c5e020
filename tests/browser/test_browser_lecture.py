"""The Lecture page in Chromium at 1280×720, presenter mode: PageDown through the default deck.

For every slide: no exception, its main chart (the page's first) inside the viewport, and
the time from the key press to that chart's new figure being drawn. The server and the
browser come from ``tests/browser/conftest.py``.
"""

from __future__ import annotations

import re
import statistics
import time
from typing import Any

import pytest

from tests.support.browser import (
    MOVE_START_JS,
    MOVE_TIME_JS,
    RENDER_MS,
    Server,
    charts,
    report,
    settle,
    skip_module_without_browser,
    wait_until,
)

pytestmark = pytest.mark.browser
skip_module_without_browser()

SCREEN = {"width": 1280, "height": 720}
#: Slides whose page itself puts the main chart lower than 1280×720 allows in presenter
#: mode (the Step tab's buttons and slider, a fit note's warning above the chart): issue
#: 33's layout item. The chart's top must still be on screen.
PAGE_PUSHES_CHART_DOWN = (2, 4, 5)
#: The aim: every slide ready within 1 s of the key press (median over the deck), none
#: over 2 s, once the deck's background sweeps are done. A quiet 2-core machine reaches
#: it; shared with other work it does not, so the bounds leave room for that and still
#: catch a slide that computes its sweep on the key press (several seconds or more).
MEDIAN_S = 1.5
SLOWEST_S = 4.0


def wait_until_prepared(context: Any, server: Server, timeout_s: float = 300.0) -> float:
    """Wait until the deck's background sweeps are done, as the page (outside presenter
    mode) says; returns the seconds waited. A second tab, so the presenter's is untouched."""
    started = time.monotonic()
    page = context.new_page()
    while time.monotonic() - started < timeout_s:
        page.goto(f"{server.url}/lecture")
        wait_until(page, lambda: "Slides prepared" in page.locator("body").inner_text(), RENDER_MS)
        text = page.locator("body").inner_text()
        done, total = re.search(r"Slides prepared in the background: (\d+) of (\d+)", text).groups()
        if done == total:
            break
        page.wait_for_timeout(3000)
    page.close()
    return time.monotonic() - started


def main_chart_box(page: Any) -> dict[str, float]:
    return page.locator(".js-plotly-plot").first.bounding_box()


def no_exception(page: Any) -> None:
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, exceptions.all_inner_texts()


def test_pagedown_walks_the_default_deck_within_the_screen(
    server: Server, context: Any, record_property: Any
) -> None:
    from gmm_app.lecture import load_deck

    deck = load_deck(None)
    page = context.new_page()
    page.set_viewport_size(SCREEN)
    page.goto(f"{server.url}/lecture?present=1")
    wait_until(page, lambda: len(charts(page)) >= 1, RENDER_MS)
    settle(page, RENDER_MS)
    waited = wait_until_prepared(context, server)
    report(record_property, f"lecture: the deck's background sweeps took {waited:.0f} s")
    times: list[float] = []
    outside: list[str] = []
    for number, slide in enumerate(deck.slides, start=1):
        if number > 1:
            page.evaluate(MOVE_START_JS)
            page.keyboard.press("PageDown")
            wait_until(page, lambda: page.evaluate(MOVE_TIME_JS) is not None, RENDER_MS)
            times.append(page.evaluate(MOVE_TIME_JS))
        settle(page, RENDER_MS)
        no_exception(page)
        bar = page.locator(".st-key-lecture_bar").inner_text()
        assert f"{number}/{len(deck.slides)}" in bar and slide.title in bar, bar
        assert f"slide={number}" in page.url, page.url
        box = main_chart_box(page)
        assert 0 <= box["y"] < SCREEN["height"] - 200, (number, box)  # mostly on screen
        if box["y"] + box["height"] > SCREEN["height"]:
            outside.append(number)
        if slide.steps_by_keys:  # → walks EM on the Step slide, PageDown still advances
            page.keyboard.press("ArrowRight")
            wait_until(
                page, lambda: "E step" in page.locator('[data-testid="stMain"]').inner_text()
            )
            settle(page)
    listed = ", ".join(f"{n}: {t:.2f} s" for n, t in enumerate(times, start=2))
    median, slowest = statistics.median(times), max(times)
    report(
        record_property,
        f"lecture: key press to chart per slide ({listed}); median {median:.2f} s, "
        f"slowest {slowest:.2f} s; main chart cut by the bottom of 1280×720 on slides "
        f"{outside or 'none'}",
    )
    assert set(outside) <= set(PAGE_PUSHES_CHART_DOWN), outside
    assert median <= MEDIAN_S and slowest <= SLOWEST_S, listed
    page.keyboard.press("PageUp")  # back one slide
    wait_until(page, lambda: f"slide={len(deck.slides) - 1}" in page.url)
