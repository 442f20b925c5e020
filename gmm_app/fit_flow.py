"""The fit flow: budget check → cached data → cached sweep with progress, or a stop.

The only place pages get sweep results from. Each sweep is keyed on plain values
(:class:`~gmm_app.app_settings.DataKey`, :class:`gmm_core.FitSettings`) in
:data:`SWEEPS`, a bounded LRU cache; the progress callback is not part of the key.
Every sweep comes back as a :class:`SweepRun` that says whether it was computed now;
the last one of a page run is kept in ``st.session_state[LAST_SWEEP]`` (None when the
page's sweep did not run).

Sweeps are not in ``st.cache_data`` because of the progress bar: Streamlit records every
element call made inside an ``st.cache_data`` function and replays it on a cache hit; an
update of an element created outside the function cannot be replayed and raises
``CacheReplayClosureError``. A plain cache records nothing.

Must not import the sidebar or the views.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

import gmm_core
from gmm_app import datasets, presenter, profiling, sweep_workers
from gmm_app.app_settings import DataKey, Settings, default_settings
from gmm_app.budget_gate import Knob, budget_gate
from gmm_app.params import MAX_ITER, RESTARTS
from gmm_app.progress import ProgressBar, final_status, sweep_label
from gmm_app.summaries import InitComparison, comparison_label, summarise_inits
from gmm_app.sweep_cache import SWEEP_CACHE_BYTES, SWEEP_CACHE_ENTRIES, SweepCache
from gmm_app.widgets import data_and_settings_downloads, escape_markdown, show_problems
from gmm_core import FitSettings
from gmm_core.budget import WorkEstimate, estimate_sweep
from gmm_core.budget import total as total_work
from gmm_core.sweep import SweepProgress

LAST_SWEEP = "last_sweep"
SWEEPS = SweepCache(SWEEP_CACHE_ENTRIES, SWEEP_CACHE_BYTES)
Progress = Callable[[SweepProgress], None]


class SweepRun(NamedTuple):
    """A sweep handed out by the flow.

    Attributes
    ----------
    result : the sweep (every K × every restart)
    fresh : True when it was computed on this call, False when it came from the cache
    progress_reports : how often the sweep reported its progress on this call
    """

    result: gmm_core.SweepResult
    fresh: bool
    progress_reports: int = 0


# --------------------------------------------------------------------------- cached sweeps


#: A sweep estimated to run under this many seconds is quick: it needs no progress bar.
QUICK_SWEEP_SECONDS = 1.0
#: Restarts per program call of a quick sweep, padded (so every restart count up to 8 is
#: one program): one call of 8 restarts runs in about half the time of four calls of 2
#: (0.10 s against 0.18 s at the default settings, measured in a worker).
QUICK_SLICE = 8


def call_options(
    n_samples: int, n_features: int, fit: FitSettings
) -> tuple[dict[str, object], float]:
    """The app's call of :func:`gmm_core.sweep` on ``(n_samples, n_features)`` points.

    Returns
    -------
    Its keyword arguments besides the points (the settings, and for a quick sweep
    :data:`QUICK_SLICE` restarts per program call), and its estimated seconds.
    """
    options: dict[str, object] = {"settings": fit}
    seconds = estimate_sweep(n_samples, n_features, fit).seconds
    if seconds < QUICK_SWEEP_SECONDS:
        options["restarts_per_call"] = QUICK_SLICE
    return options, seconds


def run_sweep(X: np.ndarray, fit: FitSettings, progress: Progress | None) -> gmm_core.SweepResult:
    """The one call from the app into :func:`gmm_core.sweep`: on a worker, within a deadline."""
    options, estimate = call_options(X.shape[0], X.shape[1], fit)
    heartbeat = getattr(progress, "waiting", None)
    ctx = get_script_run_ctx(suppress_warning=True)  # one running sweep per session
    owner = None if ctx is None else ctx.session_id
    return sweep_workers.run_sweep(X, options, estimate, progress, heartbeat=heartbeat, owner=owner)


_WARMING: list[threading.Thread] = []


def warm_default_sweep() -> threading.Thread | None:
    """Once per server: run the default view's sweep in the background, into the cache.

    The first visitor then finds it ready (or joins it while it runs) instead of waiting
    for the compiler. Only with sweep workers (``GMM_SWEEP_WORKERS`` > 0).
    """
    if _WARMING:
        return _WARMING[0]
    if sweep_workers.configured_workers() == 0:
        return None
    defaults = default_settings()
    data, fit = defaults.data_key, defaults.fit_key

    def warm() -> None:
        try:  # a visitor's own request will report it too
            _cached(_synthetic_key(data, fit), lambda: datasets.draw_synthetic(data)[0], fit, None)
        except Exception:
            logging.getLogger(__name__).exception("the default sweep's warm-up failed")

    _WARMING.append(threading.Thread(target=warm, daemon=True, name="gmm-warm-default"))
    _WARMING[0].start()
    return _WARMING[0]


def _synthetic_key(data: DataKey, fit: FitSettings) -> tuple:
    return ("synthetic", data, fit)


def _upload_key(digest: str, columns: tuple[str, ...], fit: FitSettings) -> tuple:
    return ("upload", digest, columns, fit)


def _cached(
    key: tuple, X: Callable[[], np.ndarray], fit: FitSettings, progress: Progress | None
) -> SweepRun:
    """The cached sweep of ``key``, or run it on ``X()`` and count its progress reports."""
    reports = 0

    def report(update: SweepProgress) -> None:
        nonlocal reports
        reports += 1
        progress(update)  # type: ignore[misc]

    callback = None if progress is None else report
    report.waiting = getattr(progress, "waiting", None)  # type: ignore[attr-defined]
    result, fresh = SWEEPS.get_or_compute(key, lambda: run_sweep(X(), fit, callback))
    return SweepRun(result, fresh, reports)


def sweep_synthetic(data: DataKey, fit: FitSettings, _progress: Progress | None = None) -> SweepRun:
    """Every K of the range times every restart on the synthetic data (cached).

    ``_progress`` is called by :func:`gmm_core.sweep` after each slice of restarts when
    the sweep really runs; it is not part of the cache key (see the module docstring).
    """
    return _cached(
        _synthetic_key(data, fit), lambda: datasets.synthetic_data(data)[0], fit, _progress
    )


def sweep_uploaded(
    raw: bytes,
    columns: tuple[str, ...],
    fit: FitSettings,
    _progress: Progress | None = None,
    *,
    digest: str | None = None,
) -> SweepRun:
    """The sweep on the chosen columns of an uploaded file, in full dimension (cached).

    ``_progress`` is not part of the cache key (see :func:`sweep_synthetic`); ``digest``
    is :func:`~gmm_app.datasets.upload_digest` of ``raw`` when the caller already has it.
    """
    key = _upload_key(digest or datasets.upload_digest(raw), columns, fit)
    return _cached(key, lambda: datasets.upload_matrix(raw, columns), fit, _progress)


def estimate_synthetic(data: DataKey, fit: FitSettings) -> WorkEstimate:
    """The work of :func:`sweep_synthetic`, or none when its result is cached."""
    if _synthetic_key(data, fit) in SWEEPS:
        return total_work(())
    return estimate_sweep(data.n_points, 2, fit)


def estimate_uploaded(
    digest: str, columns: tuple[str, ...], fit: FitSettings, n_rows: int
) -> WorkEstimate:
    """The work of :func:`sweep_uploaded` on ``n_rows`` rows, or none when it is cached."""
    if _upload_key(digest, columns, fit) in SWEEPS:
        return total_work(())
    return estimate_sweep(n_rows, len(columns), fit)


# --------------------------------------------------------------------------- on the page


def _timed(
    compute: Callable[..., SweepRun], *args: object, estimate: WorkEstimate
) -> gmm_core.SweepResult | None:
    """Run a cached sweep with a progress bar, then a status line that reports its timing.

    ``compute`` is :func:`sweep_synthetic` or :func:`sweep_uploaded`; it gets a
    :class:`~gmm_app.progress.ProgressBar` as ``_progress`` (called only when the sweep
    really runs). The run is kept as LAST_SWEEP; an error (the settings cannot be fitted,
    the sweep was stopped, out of memory) is shown on the page instead, and None returned.
    """
    bar = ProgressBar(estimate)
    try:
        run = compute(*args, _progress=bar)
    except (ValueError, MemoryError, RuntimeError) as error:  # XLA's errors are RuntimeErrors
        stopped = isinstance(error, sweep_workers.SweepAbandoned)
        final_status(f"The sweep {'was stopped' if stopped else 'could not run'}", "error")
        plain = stopped or isinstance(error, ValueError)
        message = str(error) if plain else sweep_workers.failure_message(error)
        show_problems([f"The sweep could not run: {escape_markdown(message, 300)}"])
        return None
    finally:
        bar.close()
    result = run.result
    with final_status(sweep_label(result, run.fresh), "complete"):
        st.write(
            f"Compile time {result.compile_seconds:.2f} s (0 when the compiled program "
            f"was reused); run time {result.run_seconds:.3f} s."
        )
    st.session_state[LAST_SWEEP] = run
    return result


def _with(fit: FitSettings, knob: str, value: int) -> FitSettings:
    """``fit`` with the setting ``knob`` lowered to ``value`` (a placed start keeps its K)."""
    if knob == "k_max" and fit.start_means:
        return fit
    return fit.replace(**{knob: value})


def _fit_knobs(settings: Settings) -> dict[str, Knob]:
    fit = settings.fit
    return {
        "n_restarts": Knob("Restarts per K", fit.n_restarts, RESTARTS.low),
        "max_iter": Knob("max_iter", fit.max_iter, MAX_ITER.low),
        "k_max": Knob("the largest K of the K range", fit.k_max, fit.k_min),
    }


def _synthetic_knobs(settings: Settings) -> dict[str, Knob]:
    if settings.shipped:  # a fixed table: its rows cannot be lowered
        return _fit_knobs(settings)
    return {
        "n_points": Knob("Number of points", settings.n_points, settings.fit.k_max),
        **_fit_knobs(settings),
    }


def synthetic_fit_or_stop(
    settings: Settings, *, name: str
) -> tuple[np.ndarray, np.ndarray | None, gmm_core.SweepResult]:
    """A fit page's common start: the preset's data and its sweep, or stop the page.

    A real data set's source is named first (not in presenter mode). Invalid settings
    stop with their errors; a sweep that did not run (budget,
    confirmation, error) stops after offering the data and settings for download.

    Returns
    -------
    points (N, 2), true labels (N,) (None for a real data set), the sweep result.
    """
    st.session_state[LAST_SWEEP] = None
    if (source := datasets.source_caption(settings)) and not presenter.presenting():
        st.caption(source)
    if not show_problems(settings.synthetic_problems()):
        st.stop()
    with profiling.phase("data"):
        points, labels = datasets.synthetic_data(settings.data_key)
    with profiling.phase("sweep"):
        result = synthetic_sweep(settings, name=name)
    if result is None:
        data_and_settings_downloads(points, labels, settings.as_dict(), "gmm_explorer")
        st.stop()
    return points, labels, result


def _synthetic_gate(
    settings: Settings,
    estimate_of: Callable[[DataKey, FitSettings], WorkEstimate],
    *,
    token: str,
    name: str,
    what: str,
) -> WorkEstimate | None:
    """:func:`~gmm_app.budget_gate.budget_gate` for work on the synthetic data that
    ``estimate_of(data, fit)`` estimates; the estimate when it may run, else None."""
    data, fit = settings.data_key, settings.fit_key

    def estimate_with(knob: str, value: int) -> WorkEstimate:
        if knob == "n_points":
            return estimate_of(data._replace(n_points=value), fit)
        return estimate_of(data, _with(fit, knob, value))

    estimate = estimate_of(data, fit)
    if not budget_gate(
        estimate,
        token=(token, data, fit),
        name=name,
        what=what,
        knobs=_synthetic_knobs(settings),
        estimate_with=estimate_with,
    ):
        return None
    return estimate


def synthetic_sweep(settings: Settings, *, name: str) -> gmm_core.SweepResult | None:
    """The page's sweep on the synthetic data, after the budget check; None if it did not run.

    Every reason for not running is shown on the page (budget, confirmation, errors).
    """
    estimate = _synthetic_gate(
        settings, estimate_synthetic, token="synthetic", name=name, what="This sweep"
    )
    if estimate is None:
        return None
    return _timed(sweep_synthetic, settings.data_key, settings.fit_key, estimate=estimate)


def uploaded_sweep(
    raw: bytes,
    columns: tuple[str, ...],
    n_rows: int,
    settings: Settings,
    *,
    name: str,
    init_means: tuple[tuple[float, ...], ...] = (),
) -> gmm_core.SweepResult | None:
    """The sweep on an upload's chosen columns, after the budget check; None if it did not run.

    ``init_means`` are the placed means lifted to the chosen columns (see
    :func:`gmm_app.placing.lift_means`); they replace the K range when given.
    """
    st.session_state[LAST_SWEEP] = None
    fit = settings.fit.placed(init_means)
    digest = datasets.upload_digest(raw)

    def estimate_with(knob: str, value: int) -> WorkEstimate:
        if knob == "n_columns":
            return estimate_uploaded(digest, columns[:value], fit, n_rows)
        return estimate_uploaded(digest, columns, _with(fit, knob, value), n_rows)

    knobs = {
        **_fit_knobs(settings),
        "n_columns": Knob("the number of columns to fit", len(columns), 1),
    }
    estimate = estimate_uploaded(digest, columns, fit, n_rows)
    if not budget_gate(
        estimate,
        token=("upload", digest, columns, fit),
        name=name,
        what=f"The sweep of {n_rows:,} rows",
        knobs=knobs,
        estimate_with=estimate_with,
        hint=" Or upload a sample of the rows.",
    ):
        return None
    sweep = functools.partial(sweep_uploaded, digest=digest)
    return _timed(sweep, raw, columns, fit, estimate=estimate)


def init_comparison(settings: Settings, k: int) -> InitComparison | None:
    """Every init method on the page's data for K, after its own budget check.

    Runs the sweep once per init method (each cached, a progress bar labelled with its
    method) and summarises K's restarts; None, with the reason on the page, when it did
    not run.
    """
    methods = gmm_core.INIT_METHODS

    def estimate_of(data: DataKey, fit: FitSettings) -> WorkEstimate:  # the uncached sweeps
        return total_work(estimate_synthetic(data, fit.replace(init_params=m)) for m in methods)

    estimate = _synthetic_gate(
        settings,
        estimate_of,
        token="comparison",
        name="init_comparison",
        what="Comparing every init method",
    )
    if estimate is None:
        return None
    bar = ProgressBar(estimate)
    runs = []
    try:
        for index, method in enumerate(methods, start=1):
            bar.label = f"init method {index} of {len(methods)} ({method})"
            fit = settings.fit_key.replace(init_params=method)
            runs.append(sweep_synthetic(settings.data_key, fit, bar))
        results, fresh = [run.result for run in runs], [run.fresh for run in runs]
        comparison = summarise_inits(methods, results, fresh, k)
    except (ValueError, MemoryError, RuntimeError) as error:
        final_status("The comparison could not run", "error")
        show_problems([f"The comparison could not run: {escape_markdown(str(error), 300)}"])
        return None
    finally:
        bar.close()
    final_status(comparison_label(comparison), "complete")
    return comparison
