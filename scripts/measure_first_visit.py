"""Time the first visit in real Chromium: Explore cold, prewarmed and restarted; Restarts cold.

For each case a fresh server (``python -m gmm_app.serve``) starts with its own cache
directory; the page is opened as soon as the server answers its health check, and the
time runs from then until the first chart is drawn.

- cold cache: an empty cache directory (the server compiles the default sweep);
- prewarmed: ``python -m gmm_app.prewarm`` (what ``make run`` does once after install)
  filled the directory first; its own time is printed too;
- restarted server, warm cache: the same directory again, after that server stopped;
- Restarts page, cold cache: another empty directory (the init comparison compiles).

The browser runs before each server starts, as a visitor's would.

    .venv/bin/python scripts/measure_first_visit.py
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from profile_redraw import CHROMIUM, FLAGS, ROOT, free_port, start_server  # noqa: E402


def first_chart_seconds(cache: Path, path: str = "") -> tuple[float, float]:
    """Seconds from server launch to its health check, and from then to the first chart."""
    os.environ["GMM_COMPILATION_CACHE"] = str(cache)
    from playwright.sync_api import sync_playwright

    log = cache.parent / f"server-{cache.name}.log"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto("about:blank")
        launched = time.perf_counter()
        server = start_server(free_port(), log)
        up = time.perf_counter()
        port = int(server.args[server.args.index("--server.port") + 1])
        try:
            page.goto(f"http://127.0.0.1:{port}/{path}")
            page.wait_for_function(
                "() => document.querySelector('.js-plotly-plot')?._fullData", timeout=300_000
            )
            drawn = time.perf_counter()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        browser.close()
    return up - launched, drawn - up


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="gmm_first_visit_"))
    rows = [("cold cache", *first_chart_seconds(work / "cold"))]
    warm = work / "prewarmed"
    env = {**os.environ, "GMM_COMPILATION_CACHE": str(warm)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gmm_app.prewarm"], cwd=ROOT, env=env, check=True)
    print(f"prewarm (once, in make run): {time.perf_counter() - started:.1f} s")
    rows.append(("prewarmed cache", *first_chart_seconds(warm)))
    rows.append(("restarted server, warm cache", *first_chart_seconds(warm)))
    rows.append(
        ("Restarts page, cold cache", *first_chart_seconds(work / "cold_restarts", "restarts"))
    )
    print(f"{'case':32}{'server up':>12}{'first chart':>14}")
    for name, up, drawn in rows:
        print(f"{name:32}{up:>10.1f} s{drawn:>12.1f} s")


if __name__ == "__main__":
    main()
