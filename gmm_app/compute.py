"""Cached computations behind the pages: data, sweeps, comparisons with the truth, exports.

Every cached function is keyed on plain values only (tuples, ints, floats, strings,
bytes), and every cache is bounded. No tracing happens here: the compiled programs
live in :mod:`gmm_core`.

Sweeps are not in ``st.cache_data`` but in :data:`SWEEPS`, a bounded LRU cache of
this module (at most :data:`SWEEP_CACHE_ENTRIES` results and about
:data:`SWEEP_CACHE_BYTES` bytes). The reason is the progress bar: the sweep functions
take a ``_progress`` callback that is *not* part of the cache key (the leading
underscore says so, as in Streamlit's convention), and that callback updates an
``st.progress`` element created by the page. Streamlit records every element call
made inside an ``st.cache_data`` function and replays it on a cache hit; an update of
an element created outside the function cannot be replayed and raises
``CacheReplayClosureError``. A plain cache records nothing.

:data:`CALLS` counts how often each cached body really ran (tests use it to check
that a choice which only changes the view does not refit).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import streamlit as st

import gmm_core
import gmm_figures as figures
from gmm_app import sweep_workers
from gmm_app.upload import ParsedUpload, parse_csv, to_csv_bytes
from gmm_core.budget import WorkEstimate, estimate_sweep
from gmm_core.budget import total as total_work
from gmm_core.data import cluster_covariance, make_dataset
from gmm_core.density import predict_labels
from gmm_core.sweep import SweepProgress

Cluster = tuple[float, float, float, float, float, float]
ClusterTable = tuple[Cluster, ...]


class DataKey(NamedTuple):
    """Everything that fixes a synthetic data set (plain values, a cache key).

    ``clusters`` holds rows ``(x, y, σx, σy, rotation in degrees, weight)``.
    """

    clusters: ClusterTable
    noise: float
    n_points: int
    seed: int


class FitKey(NamedTuple):
    """Everything that fixes a sweep apart from the data (plain values, a cache key)."""

    k_min: int
    k_max: int
    n_restarts: int
    init_method: str
    covariance_type: str
    max_iter: int
    tol: float
    seed: int


SNAPSHOTS = 64
NEAR_BEST_TOLERANCE = 1e-3
SWEEP_CACHE_ENTRIES = 16
SWEEP_CACHE_BYTES = 1 << 30
CALLS: Counter[str] = Counter()
Progress = Callable[[SweepProgress], None]


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Truth:
    """The true mixture of a cluster table (clusters with a positive weight only).

    Attributes
    ----------
    means : (Kt, 2); covariances : (Kt, 2, 2); weights : (Kt,) normalised
    label_map : (K_table,) int, table row -> index among the kept clusters (-1 if dropped)
    """

    means: np.ndarray
    covariances: np.ndarray
    weights: np.ndarray
    label_map: np.ndarray

    @property
    def k(self) -> int:
        return int(self.means.shape[0])


def truth(clusters: ClusterTable, noise: float) -> Truth:
    """The generating mixture of a valid cluster table with every σ scaled by ``noise``."""
    rows = np.asarray(clusters, dtype=np.float64).reshape(-1, 6)
    keep = rows[:, 5] > 0
    kept = rows[keep]
    covariances = np.stack(
        [cluster_covariance(sx, sy, rot) * noise**2 for _, _, sx, sy, rot, _ in kept]
    )
    label_map = np.full(rows.shape[0], -1, dtype=np.int64)
    label_map[keep] = np.arange(int(keep.sum()))
    return Truth(kept[:, :2].copy(), covariances, kept[:, 5] / kept[:, 5].sum(), label_map)


@st.cache_data(max_entries=32, show_spinner=False)
def synthetic_data(key: DataKey) -> tuple[np.ndarray, np.ndarray]:
    """Draw the data set: points (N, 2) and true labels (N,) indexing :func:`truth`'s clusters."""
    CALLS["synthetic_data"] += 1
    clusters, noise, n_points, seed = key
    rows = np.asarray(clusters, dtype=np.float64).reshape(-1, 6)
    covariances = np.stack(
        [cluster_covariance(sx, sy, rot) * noise**2 for _, _, sx, sy, rot, _ in rows]
    )
    points, labels = make_dataset(rows[:, :2], covariances, rows[:, 5], n_points, seed)
    return points, truth(clusters, noise).label_map[labels]


# --------------------------------------------------------------------------- sweeps


def result_bytes(result: gmm_core.SweepResult) -> int:
    """Bytes held by a sweep result's arrays."""
    return sum(
        value.nbytes
        for value in (getattr(result, field.name) for field in fields(result))
        if isinstance(value, np.ndarray)
    )


class SweepCache:
    """A thread-safe LRU cache of sweep results, bounded in entries and in bytes.

    The newest result is always kept, even when it alone exceeds ``max_bytes``
    (the budget check in the pages keeps it within a share of the memory); older ones
    are dropped until both bounds hold.
    """

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[gmm_core.SweepResult, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> gmm_core.SweepResult | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def put(self, key: Hashable, result: gmm_core.SweepResult) -> None:
        size = result_bytes(result)
        with self._lock:
            self._entries[key] = (result, size)
            self._entries.move_to_end(key)
            while len(self._entries) > 1 and (
                len(self._entries) > self.max_entries or self.n_bytes > self.max_bytes
            ):
                self._entries.popitem(last=False)

    def get_or_compute(
        self, key: Hashable, compute: Callable[[], gmm_core.SweepResult]
    ) -> gmm_core.SweepResult:
        """The cached result, or ``compute()``'s (stored unless it raised)."""
        cached = self.get(key)
        if cached is not None:
            return cached
        result = compute()
        self.put(key, result)
        return result

    @property
    def n_bytes(self) -> int:
        return sum(size for _, size in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


SWEEPS = SweepCache(SWEEP_CACHE_ENTRIES, SWEEP_CACHE_BYTES)


def _run_sweep(X: np.ndarray, fit: FitKey, progress: Progress | None) -> gmm_core.SweepResult:
    """The one place the app runs a sweep: on a worker process, within a deadline."""
    options = dict(
        k_min=fit.k_min,
        k_max=fit.k_max,
        n_restarts=fit.n_restarts,
        seed=fit.seed,
        init_params=fit.init_method,
        covariance_type=fit.covariance_type,
        max_iter=fit.max_iter,
        tol=fit.tol,
        snapshots=SNAPSHOTS,
    )
    estimate = _estimate(X.shape[0], X.shape[1], fit).seconds
    heartbeat = getattr(progress, "waiting", None)
    return sweep_workers.run_sweep(X, options, estimate, progress, heartbeat=heartbeat)


def _synthetic_key(data: DataKey, fit: FitKey) -> tuple:
    return ("synthetic", data, fit)


def sweep_synthetic(
    data: DataKey, fit: FitKey, _progress: Progress | None = None
) -> gmm_core.SweepResult:
    """Every K of the range times every restart on the synthetic data (cached).

    ``_progress`` is called by :func:`gmm_core.sweep` after each slice of restarts when
    the sweep really runs; it is not part of the cache key (see the module docstring).
    """

    def run() -> gmm_core.SweepResult:
        CALLS["sweep"] += 1
        points, _ = synthetic_data(data)
        return _run_sweep(points, fit, _progress)

    return SWEEPS.get_or_compute(_synthetic_key(data, fit), run)


def estimate_synthetic(data: DataKey, fit: FitKey) -> WorkEstimate:
    """The work of :func:`sweep_synthetic`, or none when its result is cached."""
    if _synthetic_key(data, fit) in SWEEPS:
        return total_work(())
    return _estimate(data.n_points, 2, fit)


def _estimate(n_samples: int, n_features: int, fit: FitKey) -> WorkEstimate:
    return estimate_sweep(
        n_samples,
        n_features,
        fit.k_min,
        fit.k_max,
        fit.n_restarts,
        fit.max_iter,
        fit.covariance_type,
        SNAPSHOTS,
    )


@st.cache_data(max_entries=4, show_spinner=False)
def parse_upload(raw: bytes) -> ParsedUpload:
    """Parse uploaded CSV bytes (raises :class:`gmm_app.upload.UploadError`)."""
    CALLS["parse_upload"] += 1
    return parse_csv(raw)


def upload_matrix(raw: bytes, columns: tuple[str, ...]) -> np.ndarray:
    """The chosen numeric columns of an upload as an (N, D) float64 array."""
    parsed = parse_upload(raw)
    return parsed.data.loc[:, list(columns)].to_numpy(dtype=np.float64)


def upload_digest(raw: bytes) -> str:
    """The name of an upload in cache keys: a digest, so that a cache of 16 sweep results
    does not also hold 16 uploads of up to 20 MB."""
    return hashlib.sha256(raw).hexdigest()


def _upload_key(digest: str, columns: tuple[str, ...], fit: FitKey) -> tuple:
    return ("upload", digest, columns, fit)


def sweep_uploaded(
    raw: bytes,
    columns: tuple[str, ...],
    fit: FitKey,
    _progress: Progress | None = None,
    *,
    digest: str | None = None,
) -> gmm_core.SweepResult:
    """The sweep on the chosen columns of an uploaded file, in full dimension (cached).

    ``_progress`` is not part of the cache key (see :func:`sweep_synthetic`); ``digest``
    is :func:`upload_digest` of ``raw`` when the caller already has it.
    """

    def run() -> gmm_core.SweepResult:
        CALLS["sweep"] += 1
        return _run_sweep(upload_matrix(raw, columns), fit, _progress)

    key = _upload_key(digest or upload_digest(raw), columns, fit)
    return SWEEPS.get_or_compute(key, run)


def estimate_uploaded(
    digest: str, columns: tuple[str, ...], fit: FitKey, n_rows: int
) -> WorkEstimate:
    """The work of :func:`sweep_uploaded` on ``n_rows`` rows, or none when it is cached."""
    if _upload_key(digest, columns, fit) in SWEEPS:
        return total_work(())
    return _estimate(n_rows, len(columns), fit)


def format_seconds(seconds: float) -> str:
    """``"about 40 s"``, ``"about 3 min"``, ``"about 2.5 h"`` (never NaN or negative)."""
    if not math.isfinite(seconds) or seconds < 0:
        return "an unknown time"
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 5400:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"


def format_bytes(n_bytes: float) -> str:
    """``"512 MB"``, ``"2.3 GB"`` (powers of 1024)."""
    if n_bytes < 2**30:
        return f"{max(n_bytes, 0) / 2**20:.0f} MB"
    return f"{n_bytes / 2**30:.1f} GB"


class ProgressBar:
    """An ``st.progress`` bar fed by :class:`gmm_core.sweep.SweepProgress` callbacks.

    The bar is drawn in a placeholder created on the page (outside any cached
    function) and removed by :meth:`close`. ``label`` prefixes the text, e.g. the init
    method of a comparison.
    """

    def __init__(self, estimate: WorkEstimate | None = None) -> None:
        self._slot = st.empty()
        self.label = ""
        self.updates = 0
        if estimate is not None and estimate.quadruples == 0:
            return  # cached: nothing will run, so no bar is drawn
        text = "Starting the sweep (a new shape of sweep compiles first)…"
        if estimate is not None and estimate.seconds >= 1:
            text = f"Starting the sweep: estimated {format_seconds(estimate.seconds)}…"
        self._slot.progress(0.0, text=text)

    def waiting(self, seconds: float) -> None:
        """Before the first progress report (compiling, or waiting for a free worker)."""
        if seconds >= 2:
            prefix = f"{self.label}: " if self.label else ""
            self._slot.progress(0.0, text=f"{prefix}Starting the sweep… {seconds:.0f} s")

    def __call__(self, progress: SweepProgress) -> None:
        self.updates += 1
        CALLS["progress_updates"] += 1
        fraction = min(max(float(progress.fraction), 0.0), 1.0)
        left = format_seconds(progress.remaining_seconds)
        prefix = f"{self.label}: " if self.label else ""
        self._slot.progress(
            fraction,
            text=(
                f"{prefix}{progress.restarts_done} of {progress.n_restarts} restarts done, "
                f"{left} left"
            ),
        )

    def close(self) -> None:
        self._slot.empty()


def timed_sweep(
    compute: Callable[..., gmm_core.SweepResult],
    *args: Any,
    estimate: WorkEstimate | None = None,
) -> gmm_core.SweepResult:
    """Run a cached sweep with a progress bar, inside an ``st.status`` that reports timing.

    ``compute`` is :func:`sweep_synthetic` or :func:`sweep_uploaded`; it gets a
    :class:`ProgressBar` as ``_progress`` (called only when the sweep really runs).

    Raises
    ------
    ValueError
        From gmm_core when the settings cannot be fitted (the status turns red).
    """
    before = CALLS["sweep"]
    bar = ProgressBar(estimate)
    with st.status("Fitting every K and restart…", expanded=False) as status:
        try:
            result = compute(*args, _progress=bar)
        except ValueError:
            status.update(label="The sweep could not run", state="error")
            raise
        except sweep_workers.SweepAbandoned as error:
            status.update(label="The sweep was stopped", state="error")
            raise ValueError(str(error)) from None
        except (MemoryError, RuntimeError) as error:  # XLA's errors are RuntimeErrors
            status.update(label="The sweep could not run", state="error")
            raise ValueError(
                "the computation failed, most likely for lack of memory; lower the number "
                "of points, the restarts per K or the K range and try again"
            ) from error
        finally:
            bar.close()
        fresh = CALLS["sweep"] > before
        size = f"{len(result.k_values)} K values × {result.n_restarts} restarts"
        if fresh and result.compile_seconds > 0:
            label = (
                f"Sweep of {size}: compiled in {result.compile_seconds:.2f} s, "
                f"ran in {result.run_seconds:.3f} s"
            )
        else:
            cached = "" if fresh else " (cached)"
            label = f"Sweep of {size} ran in {result.run_seconds:.3f} s{cached}"
        status.update(label=label, state="complete")
        st.write(
            f"Compile time {result.compile_seconds:.2f} s (0 when the compiled program "
            f"was reused); run time {result.run_seconds:.3f} s."
        )
    return result


# --------------------------------------------------------------------------- views of a sweep


@dataclass(frozen=True)
class FitView:
    """One fit of a sweep (K, restart), padding removed."""

    k: int
    restart: int
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    initial_means: np.ndarray
    final_log_likelihood: float
    n_iter: int
    converged: bool


def fit_view(result: gmm_core.SweepResult, k: int, restart: int) -> FitView:
    """The parameters of restart ``restart`` of K."""
    row = result.k_index(k)
    return FitView(
        k=k,
        restart=restart,
        weights=result.weights[row, restart, :k],
        means=result.means[row, restart, :k],
        covariances=result.covariances[row, restart, :k],
        initial_means=result.initial_means[row, restart, :k],
        final_log_likelihood=float(result.final_log_likelihood[row, restart]),
        n_iter=int(result.n_iter[row, restart]),
        converged=bool(result.converged[row, restart]),
    )


@dataclass(frozen=True)
class Animation:
    """Snapshots of one fit and the log-likelihood traces of every restart of its K.

    Snapshots after the slowest restart stopped are dropped (they repeat the final fit).
    """

    iterations: np.ndarray  # (S,)
    weights: np.ndarray  # (S, K)
    means: np.ndarray  # (S, K, D)
    covariances: np.ndarray  # (S, K, D, D)
    traces: np.ndarray  # (R, T)
    n_iter: np.ndarray  # (R,)


def animation(result: gmm_core.SweepResult, k: int, restart: int) -> Animation:
    """Snapshots of restart ``restart`` of K, cut at the last iteration any restart ran."""
    row = result.k_index(k)
    n_iter = result.n_iter[row]
    last = max(int(n_iter.max()), 1)
    keep = result.snapshot_iterations <= last
    if keep.sum() < 2:
        keep[: min(2, keep.size)] = True
    return Animation(
        iterations=result.snapshot_iterations[keep],
        weights=result.snapshot_weights[row, restart][keep][:, :k],
        means=result.snapshot_means[row, restart][keep][:, :k],
        covariances=result.snapshot_covariances[row, restart][keep][:, :k],
        traces=result.log_likelihood[row, :, :last],
        n_iter=n_iter,
    )


def predicted_labels(X: np.ndarray, fit: FitView) -> np.ndarray | None:
    """Most probable component of every point, or None when the fit is degenerate."""
    usable = np.isfinite(fit.weights) & (fit.weights > 0)
    if not usable.any():
        return None
    try:
        labels = predict_labels(X, fit.weights[usable], fit.means[usable], fit.covariances[usable])
    except ValueError:
        return None
    return np.flatnonzero(usable)[labels]


def ari(true_labels: np.ndarray, X: np.ndarray, fit: FitView) -> float:
    """Adjusted Rand index of the fit's hard labels against the true ones (NaN if undefined)."""
    labels = predicted_labels(X, fit)
    if labels is None:
        return math.nan
    return gmm_core.adjusted_rand_index(true_labels, labels)


def matched_truth(truth_: Truth, fit: FitView) -> np.ndarray:
    """(K,) index of the true cluster matched to each component (Hungarian), -1 if none."""
    matching = gmm_core.match_components(
        truth_.means, fit.means, truth_.covariances, fit.covariances
    )
    return matching.est_to_true


def near_best_fraction(final_log_likelihood: np.ndarray, best: float | None = None) -> float:
    """Share of restarts whose final mean log-likelihood is within 1e-3 of the best."""
    values = np.asarray(final_log_likelihood, dtype=np.float64)
    finite = values[np.isfinite(values)]
    if values.size == 0 or finite.size == 0:
        return 0.0
    target = float(finite.max()) if best is None else best
    return float(np.mean(np.isfinite(values) & (values >= target - NEAR_BEST_TOLERANCE)))


@dataclass(frozen=True)
class InitComparison:
    """Every init method on the same data, for one K.

    ``compile_seconds`` and ``run_seconds`` add up the sweeps computed on this call
    (cached sweeps count 0); ``n_fresh`` says how many there were.
    """

    methods: list[str]
    fraction_near_best: list[float]
    mean_iterations: list[float]
    final_log_likelihoods: list[np.ndarray]
    compile_seconds: float
    run_seconds: float
    n_fresh: int


def estimate_comparison(
    data: DataKey, fit: FitKey, methods: Sequence[str] = gmm_core.INIT_METHODS
) -> WorkEstimate:
    """The work of :func:`compare_inits`: its sweeps that are not cached yet."""
    return total_work(
        estimate_synthetic(data, fit._replace(init_method=method)) for method in methods
    )


def compare_inits(
    data: DataKey,
    fit: FitKey,
    k: int,
    methods: Sequence[str] = gmm_core.INIT_METHODS,
    _progress: ProgressBar | None = None,
) -> InitComparison:
    """Run the sweep once per init method (each cached) and summarise K's restarts.

    "Near best" is measured against the best final log-likelihood over all methods.
    ``_progress`` (not hashed) reports each fresh sweep, labelled with its method.
    """
    finals: list[np.ndarray] = []
    iterations: list[float] = []
    compile_seconds = run_seconds = 0.0
    n_fresh = 0
    for index, method in enumerate(methods, start=1):
        before = CALLS["sweep"]
        if _progress is not None:
            _progress.label = f"init method {index} of {len(methods)} ({method})"
        result = sweep_synthetic(data, fit._replace(init_method=method), _progress)
        if CALLS["sweep"] > before:
            n_fresh += 1
            compile_seconds += result.compile_seconds
            run_seconds += result.run_seconds
        row = result.k_index(k)
        finals.append(result.final_log_likelihood[row])
        iterations.append(float(np.mean(result.n_iter[row])))
    pooled = np.concatenate(finals)
    finite = pooled[np.isfinite(pooled)]
    best = float(finite.max()) if finite.size else None
    return InitComparison(
        methods=list(methods),
        fraction_near_best=[near_best_fraction(values, best) for values in finals],
        mean_iterations=iterations,
        final_log_likelihoods=finals,
        compile_seconds=compile_seconds,
        run_seconds=run_seconds,
        n_fresh=n_fresh,
    )


def comparison_table(comparison: InitComparison) -> pd.DataFrame:
    """One row per init method: share near the best, mean iterations, best and worst fit."""
    table = pd.DataFrame(
        {
            "init method": comparison.methods,
            "restarts near best": [f"{v:.0%}" for v in comparison.fraction_near_best],
            "mean iterations": np.round(comparison.mean_iterations, 1),
            "best log-likelihood": [_finite_max(v) for v in comparison.final_log_likelihoods],
            "worst log-likelihood": [_finite_min(v) for v in comparison.final_log_likelihoods],
        }
    )
    return table.replace([np.inf, -np.inf], np.nan)


def _finite_max(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else math.nan


def _finite_min(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.min()) if finite.size else math.nan


def selection_table(result: gmm_core.SweepResult) -> pd.DataFrame:
    """One row per K: the best restart's BIC, AIC and log-likelihood, and convergence."""
    best = result.best_restart()
    rows = np.arange(len(result.k_values))
    table = pd.DataFrame(
        {
            "K": result.k_values,
            "best BIC": result.bic[rows, best],
            "best AIC": result.aic[rows, best],
            "best log-likelihood / point": result.final_log_likelihood[rows, best],
            "restarts converged": result.converged.sum(axis=1),
            "restarts near best": [
                f"{near_best_fraction(result.final_log_likelihood[row]):.0%}" for row in rows
            ],
        }
    )
    return table.replace([np.inf, -np.inf], np.nan)  # shown empty, never as "inf"


def restart_colors(
    result: gmm_core.SweepResult, k: int, true_means: np.ndarray | None
) -> np.ndarray:
    """(R, K) palette index of every restart's components, matched to the true clusters."""
    row = result.k_index(k)
    return np.stack(
        [
            figures.component_colors_from_matching(
                true_means, result.means[row, r, :k, :2], result.weights[row, r, :k]
            )
            for r in range(result.n_restarts)
        ]
    )


# --------------------------------------------------------------------------- exports


def _plain(value: Any) -> Any:
    """JSON-ready copy: arrays to lists, non-finite floats to None."""
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def fit_json(
    result: gmm_core.SweepResult,
    fit: FitView,
    *,
    settings: Mapping[str, Any],
    columns: Sequence[str] | None = None,
) -> str:
    """Fitted parameters as JSON: the shown fit, the best restart of every K, the settings."""
    best = result.best_restart()
    per_k = []
    for row, k in enumerate(result.k_values.tolist()):
        column = int(best[row])
        per_k.append(
            {
                "k": k,
                "best_restart": column,
                "bic": result.bic[row, column],
                "aic": result.aic[row, column],
                "final_mean_log_likelihood": result.final_log_likelihood[row, column],
                "weights": result.weights[row, column, :k],
                "means": result.means[row, column, :k],
                "covariances": result.covariances[row, column, :k],
            }
        )
    document = {
        "settings": settings,
        "columns": list(columns) if columns is not None else None,
        "n_samples": result.n_samples,
        "n_features": result.n_features,
        "covariance_type": result.covariance_type,
        "init_method": result.init_params,
        "k_chosen_by_bic": result.best_k("bic"),
        "shown_fit": {
            "k": fit.k,
            "restart": fit.restart,
            "weights": fit.weights,
            "means": fit.means,
            "covariances": fit.covariances,
            "final_mean_log_likelihood": fit.final_log_likelihood,
            "n_iter": fit.n_iter,
            "converged": fit.converged,
        },
        "best_fit_per_k": per_k,
    }
    return json.dumps(_plain(document), indent=2, allow_nan=False)


def dataset_csv(points: np.ndarray, labels: np.ndarray | None = None) -> bytes:
    """The data set as CSV bytes (columns x, y and, for synthetic data, the true label)."""
    frame = pd.DataFrame(points, columns=["x", "y"][: points.shape[1]])
    if labels is not None:
        frame["true_cluster"] = labels
    return to_csv_bytes(frame)


def comparison_label(comparison: InitComparison) -> str:
    """Status text for the init comparison: compile and run time of the new sweeps."""
    if comparison.n_fresh == 0:
        return f"Init comparison of {len(comparison.methods)} methods (cached)"
    return (
        f"Init comparison: {comparison.n_fresh} new sweeps compiled in "
        f"{comparison.compile_seconds:.2f} s and ran in {comparison.run_seconds:.3f} s"
    )


def settings_json(
    settings: Mapping[str, Any], query_params: Mapping[str, Sequence[str]], link: str
) -> str:
    """The settings as JSON, with the query parameters and the link that reproduce the view."""
    document = {
        "settings": settings,
        "query_params": {key: list(values) for key, values in query_params.items()},
        "link": link,
    }
    return json.dumps(_plain(document), indent=2, allow_nan=False)
