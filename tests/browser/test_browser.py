"""Real-browser end-to-end tests: Playwright drives the system Chromium against a live server.

Module-scoped fixtures (``tests/browser/conftest.py``) start ``streamlit run app.py`` on a
free loopback port and one headless Chromium; the figures are read from the page (the
``data`` and ``_fullData`` of every ``.js-plotly-plot`` element). Chromium comes from
``CHROMIUM_PATH`` or ``/usr/bin/chromium``; without it the tests are skipped, or fail
under ``CI=true``.

``UPDATE_SCREENSHOTS=1`` also saves a PNG of every page under ``docs/screenshots/``.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import (
    IDLE_JS,
    MAX_SERVER_MEMORY,
    MOVE_START_JS,
    MOVE_TIME_JS,
    PAGES,
    RENDER_MS,
    ROOT,
    SCREENSHOTS,
    STEP_MS,
    VIEWPORT,
    Server,
    assert_no_exception,
    chart,
    charts,
    example_csv,
    fingerprint,
    free_port,
    memory_sampler,
    move_slider,
    open_page,
    report,
    save_screenshot,
    settle,
    skip_module_without_browser,
    slider_value,
    start_server,
    stop_server,
    wait_until,
)

pytestmark = pytest.mark.browser
skip_module_without_browser()


def test_every_page_loads_without_an_exception(server: Server, context: Any) -> None:
    for path, title, n_charts in PAGES:
        page = open_page(context, f"{server.url}/{path}", n_charts)
        assert page.get_by_role("heading", name=title, exact=True).count() == 1, title
        assert len(charts(page)) == n_charts, (path, [c.title for c in charts(page)])
        if path == "your_data":
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
                {"name": "blobs.csv", "mimeType": "text/csv", "buffer": example_csv()}
            )
            wait_until(page, lambda p=page: len(charts(p)) == 1)
            settle(page)
            assert_no_exception(page)
        save_screenshot(page, path or "explore")
        page.close()


def test_explore_shows_the_expected_traces(server: Server, context: Any) -> None:
    from gmm_app.params import DEFAULTS
    from gmm_core import PRESETS

    n_true = len(PRESETS[DEFAULTS.preset].centers)
    page = open_page(context, f"{server.url}/?tab=Ellipses", 1)
    (ellipses,) = charts(page)
    k = int(re.match(r"K = (\d+), restart \d+", ellipses.title).group(1))
    bic_k = page.locator('[data-testid="stMetric"]', has_text="K chosen by BIC")
    assert bic_k.locator('[data-testid="stMetricValue"]').inner_text() == str(k)
    # the data, 3 true and 3 fitted rings per cluster (1σ, 2σ, 3σ), the fitted means
    assert ellipses.full == len(ellipses.names)
    assert ellipses.count("data") == ellipses.count("fit means") == 1
    assert ellipses.count(r"true \d+ \dσ") == 3 * n_true
    assert ellipses.count(r"fit \d+ \dσ") == 3 * k

    page.get_by_role("tab", name="Animation").click()
    wait_until(page, lambda: any("EM iterations" in c.title for c in charts(page)))
    settle(page)
    movie = chart(page, "EM iterations")
    # the same rings, the initial means and one curve per restart (8 by default)
    assert movie.full == len(movie.names)
    assert movie.count(r"true \d+ \dσ") == 3 * n_true
    assert movie.count(r"fit \d+ \dσ") == 3 * k
    assert movie.count("initial means") == 1
    assert movie.count(r"restart \d+( \(highlighted\))?") == 8

    page.get_by_role("tab", name="Log-likelihood").click()
    wait_until(page, lambda: any("Log-likelihood of" in c.title for c in charts(page)))
    settle(page)
    curves = chart(page, "Log-likelihood of every restart")
    assert curves.count(r"restart \d+( \(highlighted\))?") == 8

    assert "tab=Log-likelihood" in page.url


def test_default_explore_draws_the_animation_and_the_curves(server: Server, context: Any) -> None:
    page = open_page(context, f"{server.url}/", 1)
    movie = chart(page, "EM iterations")
    assert movie.count(r"restart \d+( \(highlighted\))?") == 8
    assert movie.count(r"fit \d+ \dσ") >= 3
    n_frames = page.evaluate(
        "() => document.querySelector('.js-plotly-plot')._transitionData._frames.length"
    )
    assert n_frames >= 12
    live = page.locator(".gmm-live-chart").first  # reachable by keyboard, named by its title
    assert live.get_attribute("tabindex") == "0"
    assert live.get_attribute("aria-label").startswith("EM iterations")
    # The README's picture: Play, then catch an early frame with the ellipses on their way.
    page.locator(".updatemenu-button", has_text="Play").click()
    label = page.locator(".slider-label").first
    wait_until(page, lambda: 3 <= int(label.text_content().split()[-1]) <= 12, 30_000)
    page.locator(".updatemenu-button", has_text="Pause").click()
    page.wait_for_timeout(300)
    assert int(label.text_content().split()[-1]) < 20, label.text_content()
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "explore_animation.png"), full_page=True)


STEP_READOUT = re.compile(r"Iteration (\d+) · (start|E step|M step)")


def step_readout(page: Any) -> str:
    text = page.locator('[data-testid="stMarkdownContainer"]', has_text=STEP_READOUT).first
    return STEP_READOUT.search(text.inner_text()).group(0)


def test_right_arrow_on_the_step_tab_advances_em(server: Server, context: Any) -> None:
    page = open_page(context, f"{server.url}/?tab=Step&step=4", 1)
    assert step_readout(page) == "Iteration 2 · M step"
    before = fingerprint(page)
    page.keyboard.press("ArrowRight")
    wait_until(page, lambda: step_readout(page) == "Iteration 3 · E step")
    wait_until(page, lambda: fingerprint(page) != before)
    settle(page)
    assert "step=5" in page.url
    page.keyboard.press("ArrowLeft")
    wait_until(page, lambda: step_readout(page) == "Iteration 2 · M step")
    settle(page)
    page.keyboard.press("ArrowRight")
    wait_until(page, lambda: step_readout(page) == "Iteration 3 · E step")
    settle(page)
    assert_no_exception(page)
    save_screenshot(page, "step")


def open_presenter_view(page: Any, url: str) -> None:
    """Go to ``url`` (a presenter-mode link) and wait until a chart is drawn.

    Checks that no exception reached the page and that the sidebar is hidden.
    """
    page.goto(url)
    wait_until(page, lambda: len(charts(page)) >= 1, RENDER_MS)
    settle(page, RENDER_MS)
    assert_no_exception(page)
    assert not page.locator('[data-testid="stSidebar"]').is_visible()


def test_presenter_mode_hides_the_sidebar(server: Server, context: Any) -> None:
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 720})
    open_presenter_view(page, f"{server.url}/?present=1")
    box = page.locator(".js-plotly-plot").first.bounding_box()
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":  # as a projector shows it, not the page
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "presenter.png"))
    assert box["y"] >= 0 and box["y"] + box["height"] <= 720, box
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_timeout(1000)
    big = page.locator(".js-plotly-plot").first.bounding_box()
    assert big["y"] + big["height"] <= 1080 and big["width"] > box["width"], (big, box)
    open_presenter_view(page, f"{server.url}/restarts?present=1")


def readme_textbook_link() -> str:
    """The query string of the README's "textbook figure" link."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"\[the textbook figure[^\]]*\]\((\?[^)\s]+)\)", readme, re.IGNORECASE)
    assert found, "README.md has no [the textbook figure](?...) link"
    return found.group(1)


def test_the_readme_textbook_link_opens_the_old_faithful_panels_offline(
    server: Server, context: Any
) -> None:
    # Offline: anything not served by the app itself is refused.
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(server.url) else route.abort()
        ),
    )
    link = readme_textbook_link()
    assert "preset=old_faithful" in link and "tab=Panels" in link and "panels=0,1,2,5,20" in link
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server.url}/{link}")
    wait_until(page, lambda: len(charts(page)) >= 1, RENDER_MS)
    settle(page, RENDER_MS)
    assert_no_exception(page)
    figure = chart(page, "EM at chosen iterations, K = 2")
    data = json.loads(figure.data)
    panels = [t for t in data if t["name"].startswith("data ")]
    assert [len(t["x"]) for t in panels] == [272] * 5
    assert figure.count(r"fit \d [01] 1σ") == 2 * 5
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.mouse.move(0, 0)  # no hover label or toolbar in the picture
        chart_element = page.locator(".js-plotly-plot").first
        chart_element.screenshot(path=str(SCREENSHOTS / "textbook_panels.png"))
    # Export for slides, in the browser with no network: the camera button saves an SVG.
    page.get_by_text("SVG (vector)").click()
    settle(page)
    page.locator(".js-plotly-plot").first.hover()
    with page.expect_download(timeout=60_000) as download:
        page.locator('.modebar-btn[data-title^="Download plot"]').first.click()
    saved = download.value
    assert saved.suggested_filename == "gmm_old_faithful_explore_panels.svg"
    assert Path(saved.path()).read_text(errors="replace").lstrip().startswith("<svg")

    presenter = context.new_page()
    presenter.set_viewport_size({"width": 1280, "height": 720})
    open_presenter_view(presenter, f"{server.url}/{link}&present=1")
    box = presenter.locator(".js-plotly-plot").first.bounding_box()
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        presenter.screenshot(path=str(SCREENSHOTS / "textbook_presenter.png"))
    assert box["y"] >= 0 and box["y"] + box["height"] <= 720, box


def test_restarts_and_k_range_redraw_the_charts(server: Server, context: Any) -> None:
    # four_blobs with k-means++: BIC picks K = 4, above the K range's new top of 3.
    page = open_page(
        context, f"{server.url}/?preset=four_blobs&init=k-means%2B%2B&tab=Log-likelihood", 1
    )
    curves = chart(page, "Log-likelihood of every restart")
    assert curves.count(r"restart \d+( \(highlighted\))?") == 8

    before = fingerprint(page)
    move_slider(page, "Restarts per K", -3)
    wait_until(page, lambda: slider_value(page, "Restarts per K") == "5")
    wait_until(page, lambda: fingerprint(page) != before)
    settle(page)
    assert "restarts=5" in page.url
    curves = chart(page, "Log-likelihood of every restart")
    assert curves.count(r"restart \d+( \(highlighted\))?") == 5

    before = fingerprint(page)
    k_before = int(re.search(r"K = (\d+)", curves.title).group(1))
    move_slider(page, "K range", -3, thumb=1)
    wait_until(page, lambda: slider_value(page, "K range", 1) == "3")
    wait_until(page, lambda: fingerprint(page) != before)
    settle(page)
    curves = chart(page, "Log-likelihood of every restart")
    k_after = int(re.search(r"K = (\d+)", curves.title).group(1))
    assert k_after <= 3 < k_before
    assert curves.count(r"restart \d+( \(highlighted\))?") == 5

    page.get_by_role("tab", name="Ellipses").click()
    wait_until(page, lambda: any(c.title.startswith("K = ") for c in charts(page)))
    settle(page)
    ellipses = chart(page, f"K = {k_after}, restart")
    assert ellipses.count(r"fit \d+ \dσ") == 3 * k_after


RECORD_ANIMATION_JS = """() => {
    const el = document.querySelector('.js-plotly-plot');
    const state = () => ({
        active: el._fullLayout.sliders[0].active,
        label: el.querySelector('.slider-label').textContent,
        paths: [...el.querySelectorAll('.subplot.xy .scatterlayer path.js-line')]
            .map(p => p.getAttribute('d')).join('|'),
    });
    const seen = [state()];
    el.__seen = seen;
    el.__done = false;
    el.on('plotly_animated', () => { el.__done = true; });
    const timer = setInterval(() => {
        const now = state();
        const last = seen[seen.length - 1];
        if (now.active !== last.active || now.paths !== last.paths) seen.push(now);
        if (el.__done) clearInterval(timer);
    }, 5);
    return seen[0];
}"""


def test_play_advances_the_animation(server: Server, context: Any) -> None:
    # The default view is chosen so that EM takes many iterations: many distinct frames.
    page = open_page(context, f"{server.url}/?tab=Animation", 1)
    n_frames = page.evaluate(
        "() => document.querySelector('.js-plotly-plot')._transitionData._frames.length"
    )
    start = page.evaluate(RECORD_ANIMATION_JS)
    assert n_frames >= 3 and start["active"] == n_frames - 1, (n_frames, start["active"])
    assert start["label"].startswith("iteration ")
    page.locator(".updatemenu-button", has_text="Play").click()
    page.wait_for_function(
        "() => document.querySelector('.js-plotly-plot').__done", timeout=60_000, polling=50
    )
    seen = page.evaluate("() => document.querySelector('.js-plotly-plot').__seen")
    values = [state["active"] for state in seen]
    assert len(set(values[1:]) - {start["active"]}) >= 2, values
    assert values[-1] == n_frames - 1, values
    assert len({state["label"] for state in seen}) >= 3
    assert len({state["paths"] for state in seen}) >= 3, "the ellipses did not move"
    assert_no_exception(page)


def test_a_copied_url_reproduces_the_settings(server: Server, context: Any) -> None:
    page = open_page(context, f"{server.url}/", 1)
    before = fingerprint(page)
    move_slider(page, "Noise (multiplies every σ)", 2)
    wait_until(page, lambda: "noise=1.1" in page.url and fingerprint(page) != before)
    settle(page)
    seed = page.get_by_role("spinbutton", name="Init seed")
    seed.fill("42")
    seed.press("Enter")
    wait_until(page, lambda: "init_seed=42" in page.url)
    settle(page)
    page.get_by_role("tab", name="Log-likelihood").click()
    wait_until(page, lambda: "tab=Log-likelihood" in page.url)
    settle(page)
    url = page.url
    shown = fingerprint(page)

    copy = open_page(context, url, 1)
    assert copy.url == url
    assert slider_value(copy, "Noise (multiplies every σ)") == "1.10"
    assert copy.get_by_role("spinbutton", name="Init seed").input_value() == "42"
    assert copy.get_by_role("tab", name="Log-likelihood").get_attribute("aria-selected") == "true"
    assert fingerprint(copy) == shown


def test_a_page_without_charts_has_plotly_js_loaded_for_the_next(
    server: Server, context: Any
) -> None:
    page = open_page(context, f"{server.url}/about", 0)
    page.wait_for_function("() => window.__gmmPlotly", timeout=RENDER_MS)
    loaded = page.evaluate("async () => typeof (await window.__gmmPlotly).react")
    assert loaded == "function"
    assert charts(page) == []


BAD_CSV = b"name,city\nann,paris\nbob,rome\n"


def test_a_chart_whose_plotly_js_cannot_load_says_so(server: Server, context: Any) -> None:
    context.route("**/app/static/plotly-cartesian.min.js", lambda route: route.abort())
    page = context.new_page()
    page.goto(f"{server.url}/")
    problem = page.locator(".gmm-live-chart-problem")
    problem.wait_for(timeout=RENDER_MS)
    assert "could not be drawn" in problem.inner_text()
    assert "plotly-cartesian.min.js" in problem.inner_text()


def test_a_bad_csv_upload_shows_the_error(server: Server, context: Any) -> None:
    page = open_page(context, f"{server.url}/your_data", 0)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        {"name": "cities.csv", "mimeType": "text/csv", "buffer": BAD_CSV}
    )
    error = page.locator('[data-testid="stAlertContentError"]')
    error.wait_for(timeout=STEP_MS)
    settle(page)
    assert "No numeric columns found" in error.inner_text()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert charts(page) == []


def test_slider_to_redraw_time(
    server: Server, context: Any, record_property: Callable[[str, object], None]
) -> None:
    page = open_page(context, f"{server.url}/", 1)
    label = "Noise (multiplies every σ)"
    timings = []
    for step in range(6):  # the first change warms up
        page.evaluate(MOVE_START_JS)
        move_slider(page, label, 1)
        page.wait_for_function(MOVE_TIME_JS, polling=100, timeout=STEP_MS)
        if step:
            timings.append(float(page.evaluate(MOVE_TIME_JS)))
        settle(page)
    assert_no_exception(page)
    median = statistics.median(timings)
    report(
        record_property,
        f"slider change to redrawn chart (noise slider, default settings, warm): "
        f"median {median:.3f} s, max {max(timings):.3f} s "
        f"(runs: {', '.join(f'{t:.3f}' for t in timings)})",
    )
    assert median < 2.0


def test_eight_pages_at_once(
    server: Server, context: Any, record_property: Callable[[str, object], None]
) -> None:
    seeds = range(101, 109)
    peak, done, sampler = memory_sampler(server, 0.1)
    sampler.start()
    started = time.perf_counter()
    try:
        pages = []
        for seed in seeds:
            page = context.new_page()
            page.goto(f"{server.url}/?data_seed={seed}")
            pages.append(page)
        for page in pages:
            wait_until(page, lambda p=page: len(charts(p)) == 1, RENDER_MS)
            settle(page, RENDER_MS)
            assert_no_exception(page)
    finally:
        done.set()
        sampler.join()
    elapsed = time.perf_counter() - started
    shown = [charts(page)[0] for page in pages]
    for page, seed in zip(pages, seeds, strict=True):
        assert page.get_by_role("spinbutton", name="Data seed").input_value() == str(seed)
    points = {json.loads(c.data)[0]["x"][:20].__repr__() for c in shown}
    assert len(points) == len(pages), "pages with different seeds show the same data"
    assert all(c.count(r"fit \d+ \dσ") >= 3 for c in shown)
    report(
        record_property,
        f"{len(pages)} pages at once, each on its own data seed: all rendered in "
        f"{elapsed:.1f} s; server peak memory {max(peak) / 2**20:.0f} MiB "
        f"(proportional set size with child processes, {len(peak)} samples)",
    )
    assert max(peak) < MAX_SERVER_MEMORY


RESTART_QUERY = (
    "?preset=elongated&noise=1.3&data_seed=5&k_range=2&k_range=5&restarts=6&init_seed=3"
    "&tab=Log-likelihood"
)


def test_a_settings_link_survives_a_server_restart(
    browser_ready: None,
    context: Any,
    server_env: dict[str, str],
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    port = free_port()
    views = []
    for run in range(2):
        running = start_server(port, tmp_path / f"streamlit_{run}.log", server_env)
        try:
            page = open_page(context, f"{running.url}/{RESTART_QUERY}", 1)
            curves = chart(page, "Log-likelihood of every restart")
            views.append(
                {
                    "url": page.url,
                    "noise": slider_value(page, "Noise (multiplies every σ)"),
                    "k_range": (slider_value(page, "K range"), slider_value(page, "K range", 1)),
                    "restarts": slider_value(page, "Restarts per K"),
                    "init_seed": page.get_by_role("spinbutton", name="Init seed").input_value(),
                    "curves": curves.count(r"restart \d+( \(highlighted\))?"),
                    "figures": fingerprint(page),
                }
            )
            page.close()
        finally:
            stop_server(running)
    first, second = views
    assert first["noise"] == "1.30" and first["k_range"] == ("2", "5")
    assert first["restarts"] == "6" and first["curves"] == 6 and first["init_seed"] == "3"
    assert second == first
    report(
        record_property,
        f"settings link after a server restart on port {port}: the same settings and figures",
    )


def noise_csv(n_rows: int, n_columns: int) -> bytes:
    """Standard normal noise: ``n_rows`` rows of ``n_columns`` numeric columns x1, x2, …"""
    import numpy as np

    values = np.random.default_rng(12).normal(size=(n_rows, n_columns))
    header = ",".join(f"x{j + 1}" for j in range(n_columns))
    return "\n".join([header, *(",".join(f"{v:.5f}" for v in row) for row in values)]).encode()


def choose_every_column(page: Any) -> None:
    """Pick every column in the "Columns to fit" multiselect at once (its "Select all")."""
    page.get_by_test_id("stMultiSelect").locator("input").click()
    page.get_by_text("Select all", exact=False).first.click()
    page.keyboard.press("Escape")


def test_a_twelve_column_upload_with_k_up_to_12_finishes_while_another_session_fits(
    server: Server, browser: Any, record_property: Callable[[str, object], None]
) -> None:
    uploads, visitor = (
        browser.new_context(viewport=VIEWPORT),
        browser.new_context(viewport=VIEWPORT),
    )
    try:
        page = uploads.new_page()
        page.goto(f"{server.url}/your_data?k_range=1&k_range=12&restarts=8")
        page.wait_for_selector(
            '[data-testid="stFileUploaderDropzoneInput"]', state="attached", timeout=RENDER_MS
        )
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            {"name": "noise.csv", "mimeType": "text/csv", "buffer": noise_csv(5000, 12)}
        )
        page.get_by_test_id("stMultiSelect").wait_for(timeout=STEP_MS)
        choose_every_column(page)
        started = time.perf_counter()
        other = visitor.new_page()  # a second session starts a new fit meanwhile
        other.goto(f"{server.url}/?data_seed=4321")
        wait_until(other, lambda: len(charts(other)) >= 1, RENDER_MS)
        other_seconds = time.perf_counter() - started
        assert_no_exception(other)
        wait_until(page, lambda: len(charts(page)) >= 1, RENDER_MS)
        settle(page, RENDER_MS)
        assert_no_exception(page)
        status = page.get_by_test_id("stExpander").filter(has_text="Sweep of 12 K values")
        assert status.count() >= 1, "the 12-column sweep with K = 1..12 did not finish"
        report(
            record_property,
            f"12-column upload, K = 1..12, 8 restarts: drawn {time.perf_counter() - started:.1f} s "
            f"after the last column was chosen; a second session's fit drew in "
            f"{other_seconds:.1f} s",
        )
    finally:
        uploads.close()
        visitor.close()


# --------------------------------------------------------------------------- placed means

PLACING_JS = """() => {
    const el = [...document.querySelectorAll('.js-plotly-plot')]
        .find(e => e.layout && e.layout.title && e.layout.title.text.startsWith('Click to place'));
    if (!el || !el._fullLayout) return null;
    const t = el.data.find(d => d.name === 'placed means');
    return {x: t.x, y: t.y, title: el.layout.title.text};
}"""

PIXEL_JS = """([x, y]) => {
    const el = [...document.querySelectorAll('.js-plotly-plot')]
        .find(e => e.layout && e.layout.title && e.layout.title.text.startsWith('Click to place'));
    el.scrollIntoView({block: 'center'});
    const box = el.getBoundingClientRect();
    const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
    return [box.left + xa._offset + xa.l2p(x), box.top + ya._offset + ya.l2p(y)];
}"""


def screenshot_at_720p(page: Any, name: str, chart_title: str) -> None:
    """Write docs/screenshots/<name>.png at 1280×720, the chart scrolled into view."""
    if os.environ.get("UPDATE_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 720})
    page.wait_for_timeout(1000)  # charts resize to the new viewport
    settle(page)
    page.locator(".js-plotly-plot", has_text=chart_title).first.scroll_into_view_if_needed()
    page.mouse.move(0, 0)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size(VIEWPORT)


def placed(page: Any) -> list[tuple[float, float]]:
    """The placed means the placing figure draws now ([] when it is not drawn)."""
    state = page.evaluate(PLACING_JS)
    return [] if state is None else list(zip(state["x"], state["y"], strict=True))


def click_plot(page: Any, x: float, y: float, expected: int) -> float:
    """Click the placing figure at data point (x, y); seconds until it shows ``expected``."""
    px, py = page.evaluate(PIXEL_JS, [x, y])
    started = time.perf_counter()
    page.mouse.click(px, py)
    wait_until(page, lambda: len(placed(page)) == expected, STEP_MS)
    elapsed = time.perf_counter() - started
    settle(page)
    return elapsed


def test_three_clicks_place_three_means_and_fit_from_these(
    server: Server, context: Any, record_property: Callable[[str, object], None]
) -> None:
    import numpy as np

    from gmm_app.params import DEFAULTS
    from gmm_core import PRESETS

    targets = np.asarray(PRESETS[DEFAULTS.preset].centers, dtype=float)[:3]
    page = open_page(context, f"{server.url}/?tab=Animation", 1)
    page.get_by_text("Place initial means", exact=True).click()
    wait_until(page, lambda: page.evaluate(PLACING_JS) is not None)
    settle(page)
    timings = [click_plot(page, x, y, n) for n, (x, y) in enumerate(targets, start=1)]
    means = np.asarray(placed(page))
    # A click lands on the nearest point of the 50 × 50 click grid: within ~0.2 here.
    np.testing.assert_allclose(means, targets, atol=0.4)
    assert "K = 3" in page.evaluate(PLACING_JS)["title"]
    # A click near a placed mean removes it; a click there again puts it back.
    timings.append(click_plot(page, *means[1], 2))
    timings.append(click_plot(page, *means[1], 3))
    screenshot_at_720p(page, "place_means", "Click to place")

    page.get_by_role("button", name="Fit from these").click()

    def one_fit_from_placed_means() -> bool:  # not the K-range sweep's K = 3 drawn before
        found = [c for c in charts(page) if "EM iterations, K = 3" in c.title]
        return bool(found) and found[0].count(r"restart \d+( \(highlighted\))?") == 1

    wait_until(page, one_fit_from_placed_means, RENDER_MS)
    settle(page, RENDER_MS)
    assert_no_exception(page)
    assert "init_means=" in page.url
    movie = json.loads(chart(page, "EM iterations, K = 3").data)
    initial = next(t for t in movie if t["name"] == "initial means")
    started = np.c_[initial["x"], initial["y"]]
    np.testing.assert_allclose(
        started[np.lexsort(started.T)], means[np.lexsort(means.T)], atol=1e-3
    )
    report(
        record_property,
        f"click on the placing plot to the redrawn plot with the new mean: median "
        f"{statistics.median(timings):.3f} s, max {max(timings):.3f} s "
        f"(runs: {', '.join(f'{t:.3f}' for t in timings)})",
    )
    assert statistics.median(timings) < 2.0


def test_the_uncertainty_view_renders_and_animates(server: Server, context: Any) -> None:
    page = open_page(context, f"{server.url}/?uncertainty=true", 1)
    figure = chart(page, "Uncertainty, K = 3")
    assert figure.names == ["uncertainty", "density", "data", "means"]
    n_frames = page.evaluate(
        "() => document.querySelector('.js-plotly-plot')._transitionData._frames.length"
    )
    assert n_frames >= 2
    screenshot_at_720p(page, "uncertainty", "Uncertainty")
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server.url}/?uncertainty=true&present=1")
    wait_until(page, lambda: len(charts(page)) >= 1, RENDER_MS)
    settle(page, RENDER_MS)
    assert_no_exception(page)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        page.screenshot(path=str(SCREENSHOTS / "uncertainty_presenter.png"))


LOAD_SECONDS = 60.0
PENDING_LIMIT_SECONDS = 180.0  # a move not drawn this long after the minute fails the test
EIGHT_SESSIONS_P95_BOUND = 60.0
# Regression guard for 8 sessions redrawing at once (measured 1657 and 2502 MiB): the
# issue's 2 GB target is not met, and the figure printed above is the measurement.
EIGHT_SESSIONS_MEMORY_BOUND = 3.5 * 2**30


def move_every_page(pages: list[Any], seconds: float) -> list[float]:
    """Keep every page redrawing: each one's Noise slider steps right whenever it is idle.

    The pages' reruns overlap; a move is timed in its page, from the key press to the
    chart drawn with new data. Returns every completed move's time in seconds.
    """
    label = "Noise (multiplies every σ)"
    times: list[float] = []
    pending = [False] * len(pages)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline or any(pending):
        if time.monotonic() > deadline + PENDING_LIMIT_SECONDS:
            stuck = [i for i, waiting in enumerate(pending) if waiting]
            texts = [pages[i].inner_text("body")[-500:] for i in stuck]
            raise AssertionError(
                f"pages {stuck} never redrew their last move, {PENDING_LIMIT_SECONDS:.0f} s "
                f"after the minute; their text: {texts}"
            )
        for index, page in enumerate(pages):
            if pending[index]:
                elapsed = page.evaluate(MOVE_TIME_JS)
                if elapsed is None:
                    continue
                times.append(float(elapsed))
                pending[index] = False
            if time.monotonic() < deadline and page.evaluate(IDLE_JS):
                page.evaluate(MOVE_START_JS)
                move_slider(page, label, 1)
                pending[index] = True
        pages[0].wait_for_timeout(50)
    return times


def test_eight_sessions_moving_sliders_for_a_minute(
    server: Server, browser: Any, record_property: Callable[[str, object], None]
) -> None:
    """8 sessions, each on its own data seed, move their Noise slider for 60 s at once.

    Reports p50 and p95 of the slider → redraw time and the server's peak memory, then
    checks that every session got its own results: a fresh page on the same link (its
    data seed and noise, read from its URL) draws the same points.
    """
    seeds = range(201, 209)
    contexts = [browser.new_context(viewport=VIEWPORT) for _ in seeds]
    peak, done, sampler = memory_sampler(server, 0.2)
    try:
        pages = [
            open_page(ctx, f"{server.url}/?data_seed={seed}", 1)
            for ctx, seed in zip(contexts, seeds, strict=True)
        ]
        sampler.start()
        times = move_every_page(pages, LOAD_SECONDS)
        done.set()
        sampler.join()
        for page in pages:
            settle(page)
            assert_no_exception(page)
        shown = [json.loads(charts(page)[0].data)[0]["x"] for page in pages]
        assert len({repr(x) for x in shown}) == len(pages), "two sessions show the same data"
        for ctx, page, points in zip(contexts, pages, shown, strict=True):
            fresh = open_page(ctx, page.url, 1)
            assert json.loads(charts(fresh)[0].data)[0]["x"] == points, page.url
    finally:
        done.set()
        for ctx in contexts:
            ctx.close()
    assert len(times) >= 2 * len(seeds), times
    p50, p95 = statistics.median(times), statistics.quantiles(times, n=20)[-1]
    report(
        record_property,
        f"{len(seeds)} sessions moving the Noise slider for {LOAD_SECONDS:.0f} s: "
        f"{len(times)} redraws, p50 {p50:.2f} s, p95 {p95:.2f} s, max {max(times):.2f} s; "
        f"server peak memory {max(peak) / 2**20:.0f} MiB (proportional set size with "
        f"child processes, {len(peak)} samples)",
    )
    # A regression guard, not the target: on 2 cores, 8 sessions each asking for a
    # redraw as soon as the last one is drawn queue behind one another (the figure above
    # is the measurement).
    assert p95 < EIGHT_SESSIONS_P95_BOUND
    assert max(peak) < EIGHT_SESSIONS_MEMORY_BOUND
