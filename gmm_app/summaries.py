"""Pure readings of a sweep result: one fit, its animation, labels, ARI and tables.

No Streamlit. Must not import the fit flow, the widgets or the views.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

import gmm_core
import gmm_figures as figures
from gmm_core.density import predict_labels
from gmm_core.mixture import Mixture
from gmm_core.tolerances import NEAR_BEST_TOLERANCE


@dataclass(frozen=True)
class FitView:
    """One fit of a sweep (K, restart): its mixture (padding removed) and how it ran."""

    k: int
    restart: int
    mixture: Mixture
    initial_means: np.ndarray
    final_log_likelihood: float
    n_iter: int
    converged: bool
    failed: bool = False


def fit_view(result: gmm_core.SweepResult, k: int, restart: int) -> FitView:
    """The parameters of restart ``restart`` of K."""
    row = result.k_index(k)
    return FitView(
        k=k,
        restart=restart,
        mixture=result.mixture(k, restart),
        initial_means=result.initial.means[row, restart, :k],
        final_log_likelihood=float(result.final_log_likelihood[row, restart]),
        n_iter=int(result.n_iter[row, restart]),
        converged=bool(result.converged[row, restart]),
        failed=bool(result.failed[row, restart]),
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
        weights=result.snapshots.weights[row, restart][keep][:, :k],
        means=result.snapshots.means[row, restart][keep][:, :k],
        covariances=result.snapshots.covariances[row, restart][keep][:, :k],
        traces=result.log_likelihood[row, :, :last],
        n_iter=n_iter,
    )


def ari(true_labels: np.ndarray, X: np.ndarray, fit: FitView) -> float:
    """Adjusted Rand index of the fit's hard labels against the true ones (NaN if undefined:
    no component with a usable weight, or a degenerate covariance)."""
    mixture = fit.mixture
    usable = np.isfinite(mixture.weights) & (mixture.weights > 0)
    if not usable.any():
        return math.nan
    try:
        labels = predict_labels(
            X, mixture.weights[usable], mixture.means[usable], mixture.covariances[usable]
        )
    except ValueError:
        return math.nan
    return gmm_core.adjusted_rand_index(true_labels, np.flatnonzero(usable)[labels])


def near_best_fraction(final_log_likelihood: np.ndarray, best: float | None = None) -> float:
    """Share of restarts whose final mean log-likelihood is within 1e-3 of the best."""
    values = np.asarray(final_log_likelihood, dtype=np.float64)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
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


def summarise_inits(
    methods: Sequence[str],
    results: Sequence[gmm_core.SweepResult],
    fresh: Sequence[bool],
    k: int,
) -> InitComparison:
    """Summarise K's restarts of one sweep per init method (``fresh``: computed now).

    "Near best" is measured against the best final log-likelihood over all methods.
    """
    rows = [result.k_index(k) for result in results]
    finals = [result.final_log_likelihood[row] for result, row in zip(results, rows, strict=True)]
    iterations = [
        float(np.mean(result.n_iter[row])) for result, row in zip(results, rows, strict=True)
    ]
    new = [result for result, is_new in zip(results, fresh, strict=True) if is_new]
    pooled = np.concatenate(finals)
    finite = pooled[np.isfinite(pooled)]
    best = float(finite.max()) if finite.size else None
    return InitComparison(
        methods=list(methods),
        fraction_near_best=[near_best_fraction(values, best) for values in finals],
        mean_iterations=iterations,
        final_log_likelihoods=finals,
        compile_seconds=sum(result.compile_seconds for result in new),
        run_seconds=sum(result.run_seconds for result in new),
        n_fresh=len(new),
    )


def comparison_table(comparison: InitComparison) -> pd.DataFrame:
    """One row per init method: share near the best, mean iterations, best and worst fit."""
    table = pd.DataFrame(
        {
            "init method": comparison.methods,
            "restarts near best": [f"{v:.0%}" for v in comparison.fraction_near_best],
            "mean iterations": np.round(comparison.mean_iterations, 1),
        }
    )
    finals = pd.DataFrame(comparison.final_log_likelihoods).replace([np.inf, -np.inf], np.nan)
    table["best log-likelihood"] = finals.max(axis=1)
    table["worst log-likelihood"] = finals.min(axis=1)
    return table


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
    mixtures = [result.mixture(k, r) for r in range(result.n_restarts)]
    return np.stack(
        [
            figures.component_colors_from_matching(true_means, m.means[:, :2], m.weights)
            for m in mixtures
        ]
    )


def comparison_label(comparison: InitComparison) -> str:
    """Status text for the init comparison: compile and run time of the new sweeps."""
    if comparison.n_fresh == 0:
        return f"Init comparison of {len(comparison.methods)} methods (cached)"
    return (
        f"Init comparison: {comparison.n_fresh} new sweeps compiled in "
        f"{comparison.compile_seconds:.2f} s and ran in {comparison.run_seconds:.3f} s"
    )
