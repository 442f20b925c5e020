"""Break the Explore page's slider → redrawn chart time into its parts, in real Chromium.

Starts ``python -m gmm_app.serve`` with ``GMM_PROFILE=1`` (per-phase timings on stderr,
see :mod:`gmm_app.profiling`), opens the page in headless Chromium through Playwright,
moves the Noise slider ``--moves`` times and prints a table of medians:

- rerun start: key press → the script starts (slider debounce, websocket, rerun request)
- sidebar, data, sweep, figure build, send (the chart call: Plotly's JSON, the
  message), of which json (``plotly.io.to_json``), page other (the rest of the page)
- transfer: the chart call returned → the chart's websocket message is in the page
- browser render: that message → the new chart is drawn (decode, React, the live
  chart's ``Plotly.react``; see :mod:`gmm_app.live_chart`)
- browser CPU: Chromium's script + layout + style time per redraw (CDP Performance metrics)

    .venv/bin/python scripts/profile_redraw.py [--moves 8] [--url-query "?tab=Ellipses"]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
NOISE = "Noise (multiplies every σ)"
PHASE = re.compile(r"^GMM_PROFILE (\S+) (\S+) ([\d.]+) ([\d.]+)(?: (\d+))?$")

# Every websocket message's arrival (epoch ms) and size, and long main-thread tasks.
INIT_JS = """
(() => {
  window.__ws = [];
  const Original = window.WebSocket;
  window.WebSocket = class extends Original {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        const d = event.data;
        const n = d.byteLength ?? d.size ?? d.length ?? 0;
        window.__ws.push({t: performance.timeOrigin + performance.now(), n});
      });
    }
  };
})();
"""

# Sets window.__drawn to the epoch ms of the first animation frame with a new data[0].x
# (a live chart also says it is done drawing: its data-state is "drawn").
# When the page's first chart holds a new figure (its data-state back to "drawn", its data
# a new object; looked up again at each change, as a rerun may mount a new chart), the time
# of the next frame. A MutationObserver, not a requestAnimationFrame loop: a loop would
# keep the page painting and take CPU from the server while it works.
DRAWN_JS = """() => {
  window.__drawn = null;
  const old = document.querySelector('.js-plotly-plot').data;
  const observer = new MutationObserver(() => {
    const el = document.querySelector('.js-plotly-plot');
    if (el && el.data && el.data !== old && (el.dataset.state || 'drawn') === 'drawn') {
      observer.disconnect();
      requestAnimationFrame(() => { window.__drawn = performance.timeOrigin + performance.now(); });
    }
  });
  observer.observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'],
  });
}"""


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int, log: Path) -> subprocess.Popen:
    """``python -m gmm_app.serve`` with GMM_PROFILE=1, once its health check answers."""
    env = {**os.environ, "GMM_PROFILE": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("GMM_SWEEP_WORKERS", None)  # the app's own worker pool, as `make run` serves it
    command = [sys.executable, "-m", "gmm_app.serve", "--server.headless", "true"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    command += ["--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return process
        except OSError:
            time.sleep(0.25)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError(log.read_text(errors="replace")[-3000:])


def phases_after(log: Path, since: float) -> dict[str, tuple[float, float, int]]:
    """The server's phases that started after ``since`` (epoch s): name → (start, end, bytes).

    A phase logged more than once (several figures) keeps its first start and last end and
    sums its bytes.
    """
    found: dict[str, tuple[float, float, int]] = {}
    for line in log.read_text(errors="replace").splitlines():
        match = PHASE.match(line)
        if not match or float(match[3]) < since:
            continue
        name, start, end, size = match[2], float(match[3]), float(match[4]), int(match[5] or 0)
        if name in found:
            old = found[name]
            found[name] = (min(old[0], start), max(old[1], end), old[2] + size)
        else:
            found[name] = (start, end, size)
    return found


def browser_cpu(cdp: Any) -> float:
    """Chromium's script, layout and style time so far, in seconds."""
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return sum(metrics[k] for k in ("ScriptDuration", "LayoutDuration", "RecalcStyleDuration"))


def one_move(page: Any, cdp: Any, log: Path) -> dict[str, float]:
    """Move the Noise slider one step and return every part of the redraw, in seconds."""
    page.evaluate("() => { window.__ws = []; }")
    cpu = browser_cpu(cdp)
    handle = page.get_by_role("slider", name=NOISE).nth(0)
    handle.focus()
    pressed = time.time()
    page.evaluate(DRAWN_JS)
    handle.press("ArrowRight")
    waited = page.wait_for_function("() => window.__drawn", timeout=60_000, polling=100)
    drawn = float(waited.json_value())
    drawn /= 1000
    cpu = browser_cpu(cdp) - cpu
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')"
        ".getAttribute('data-test-script-state') !== 'running'"
    )
    time.sleep(0.3)
    messages = page.evaluate("() => window.__ws")
    chart_message = max(messages, key=lambda m: m["n"])
    return parts(phases_after(log, pressed), pressed, drawn, chart_message, cpu)


def parts(
    phases: dict[str, tuple[float, float, int]],
    pressed: float,
    drawn: float,
    chart_message: dict[str, float],
    cpu: float,
) -> dict[str, float]:
    """The table's columns for one move."""

    def length(name: str) -> float:
        start, end, _ = phases.get(name, (0.0, 0.0, 0))
        return end - start

    arrived = chart_message["t"] / 1000
    inner = sum(length(name) for name in ("data", "sweep", "figure", "send"))
    return {
        "rerun start": phases["sidebar"][0] - pressed,
        "sidebar": length("sidebar"),
        "data": length("data"),
        "sweep": length("sweep"),
        "  of which worker run": length("worker_run"),
        "figure build": length("figure"),
        "send (chart call)": length("send"),
        "  of which json": length("json"),
        "page other": length("page") - inner,
        "transfer": arrived - phases["send"][1],
        "browser render": drawn - arrived,
        "total (press → drawn)": drawn - pressed,
        "browser CPU": cpu,
        "chart message kB": chart_message["n"] / 1000,
        "figure JSON kB": phases.get("json", (0, 0, 0))[2] / 1000,
    }


def print_table(rows: list[dict[str, float]]) -> None:
    """Median, min and max of every part."""
    print(f"{'part':<24}{'median':>10}{'min':>10}{'max':>10}")
    for name in rows[0]:
        values = [row[name] for row in rows]
        unit = "" if "kB" in name else " s"
        print(
            f"{name:<24}{statistics.median(values):>10.3f}{min(values):>10.3f}"
            f"{max(values):>10.3f}{unit}"
        )


def profile(moves: int, query: str) -> list[dict[str, float]]:
    """Start the server and the browser, warm up with two moves, then time ``moves`` moves."""
    from playwright.sync_api import sync_playwright

    log = Path(tempfile.mkdtemp(prefix="gmm_profile_")) / "server.log"
    port = free_port()
    server = start_server(port, log)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.add_init_script(INIT_JS)
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            page.goto(f"http://127.0.0.1:{port}/{query}")
            page.wait_for_function(
                "() => document.querySelector('.js-plotly-plot')?._fullData", timeout=300_000
            )
            print("page drawn", file=sys.stderr)
            rows = []
            for move in range(moves + 2):
                rows.append(one_move(page, cdp, log))
                print(f"move {move}: {rows[-1]['total (press → drawn)']:.3f} s", file=sys.stderr)
            rows = rows[2:]
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=8, help="timed slider moves (default 8)")
    parser.add_argument("--url-query", default="", help='e.g. "?tab=Ellipses"')
    args = parser.parse_args()
    rows = profile(args.moves, args.url_query)
    print(f"Explore{args.url_query or ''}: {len(rows)} noise-slider moves, warm, 2 warm-up moves")
    print_table(rows)


if __name__ == "__main__":
    main()
