"""Running Python in a fresh process from the repository root, as a test's isolated step."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def run_python(
    arguments: list[str], env: dict[str, str] | None = None, timeout: float = 300
) -> str:
    """``python *arguments`` with the repository on the path and ``env`` added; its stdout.

    A non-zero exit fails the test with the end of the process's stderr.
    """
    done = subprocess.run(
        [sys.executable, *arguments],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout
