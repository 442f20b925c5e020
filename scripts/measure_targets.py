"""Every figure of the demo-speed targets, measured in one run on this machine.

Runs, one after the other so they do not share the cores:

1. ``scripts/measure_first_visit.py``: the first chart on Explore (cold cache, prewarmed,
   restarted server) and on Restarts (cold cache), in Chromium;
2. ``scripts/profile_redraw.py``: slider → redrawn chart, split into its parts;
3. ``python -m gmm_core.bench a b c``: the library's default against scikit-learn.

    .venv/bin/python scripts/measure_targets.py
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = (
    ("first visit", ["scripts/measure_first_visit.py"]),
    ("slider → redraw", ["scripts/profile_redraw.py", "--moves", "8"]),
    ("library, default settings", ["-m", "gmm_core.bench", "a", "b", "c"]),
)


def main() -> None:
    """Run each step and print its output under a heading; exit 1 if any step failed."""
    failed = 0
    for title, arguments in STEPS:
        print(f"== {title}: python {' '.join(arguments)}", flush=True)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, *arguments], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        print(done.stdout.rstrip())
        print(f"({time.perf_counter() - started:.0f} s, exit status {done.returncode})\n")
        failed += done.returncode != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
