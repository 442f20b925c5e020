"""Opt-in per-phase timings of a page run (``GMM_PROFILE=1``), off by default.

When the environment variable ``GMM_PROFILE`` is ``1`` every :func:`phase` writes one line
to stderr::

    GMM_PROFILE <session> <phase> <start epoch s> <end epoch s> [<bytes>]

:func:`install` also times every ``plotly.io.to_json`` call, the charts' JSON (phase
``json``, with the JSON's length).

``scripts/profile_redraw.py`` reads these lines from the server's log and lines them up
with the browser's timings. Otherwise :func:`phase` costs one dictionary lookup.

Must not import JAX: compiled work lives in gmm_core (``tests/test_layers.py``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

ENV = "GMM_PROFILE"
PREFIX = "GMM_PROFILE"


def enabled() -> bool:
    """Whether the timings are logged (``GMM_PROFILE=1``)."""
    return os.environ.get(ENV) == "1"


def _session() -> str:
    """The Streamlit session of this run, or ``-`` outside one."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx.session_id if ctx is not None else "-"


def _log(name: str, started: float, size: int | None = None, session: str | None = None) -> None:
    extra = "" if size is None else f" {size}"
    session = _session() if session is None else session
    line = f"{PREFIX} {session} {name} {started:.6f} {time.time():.6f}{extra}\n"
    sys.stderr.write(line)
    sys.stderr.flush()


@contextlib.contextmanager
def phase(name: str, session: str | None = None) -> Iterator[None]:
    """Log the wall time of the ``with`` block as phase ``name`` when profiling is on.

    ``session``: the Streamlit session to log (default: this run's; a sweep worker, which
    has none, passes ``"-"``).
    """
    if not enabled():
        yield
        return
    started = time.time()
    try:
        yield
    finally:
        _log(name, started, session=session)


def install() -> None:
    """When profiling is on, time every ``plotly.io.to_json`` call (once per process)."""
    import plotly.io

    original = plotly.io.to_json
    if not enabled() or getattr(original, "_gmm_timed", False):
        return

    def timed(*args: Any, **kwargs: Any) -> str:
        started = time.time()
        text = original(*args, **kwargs)
        _log("json", started, len(text))
        return text

    timed._gmm_timed = True  # type: ignore[attr-defined]
    plotly.io.to_json = timed
