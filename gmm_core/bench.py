"""Side-by-side benchmark of gmm_core's sweep and scikit-learn's GaussianMixture.

Run ``python -m gmm_core.bench`` (all workloads) or ``python -m gmm_core.bench a c``.
Both libraries do the same work: the same data, K range, restarts and iterations,
with ``tol=0`` so every fit runs exactly ``max_iter`` iterations and the same
initialisation method (k-means++). Where scikit-learn would take minutes, one
restart of every K is timed and multiplied by the number of restarts; the table
says so in its "scikit-learn" column ("×R scaled").
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import NamedTuple

import jax
import numpy as np

from gmm_core.sweep import sweep


class Workload(NamedTuple):
    name: str
    n_samples: int
    n_features: int
    k_min: int
    k_max: int
    n_restarts: int
    max_iter: int
    sklearn_restarts_timed: int  # restarts of every K that scikit-learn actually runs


WORKLOADS: dict[str, Workload] = {
    "a": Workload("a", 2_000, 2, 1, 6, 8, 100, 8),
    "b": Workload("b", 100_000, 2, 1, 6, 8, 100, 1),
    "c": Workload("c", 20_000, 10, 1, 8, 4, 50, 1),
}


def blobs(n_samples: int, n_features: int, n_clusters: int = 4, seed: int = 0) -> np.ndarray:
    """(n_samples, n_features) points from ``n_clusters`` unit Gaussians 8 apart."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, n_features)) * 8.0
    labels = rng.integers(n_clusters, size=n_samples)
    return centres[labels] + rng.normal(size=(n_samples, n_features))


def best_of(repeats: int, run: Callable[[], object]) -> float:
    """Smallest wall time of ``repeats`` calls, in seconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def time_gmm_core(workload: Workload, X: np.ndarray, repeats: int) -> tuple[float, float]:
    """(compile seconds, warm wall seconds) of the sweep."""

    def run(seed: int = 1) -> object:
        return sweep(
            X,
            workload.k_min,
            workload.k_max,
            workload.n_restarts,
            seed=seed,
            max_iter=workload.max_iter,
            tol=0.0,
        )

    first = run(seed=0)
    return first.compile_seconds, best_of(repeats, run)


def time_sklearn(workload: Workload, X: np.ndarray) -> float:
    """Wall seconds of scikit-learn for the whole workload (scaled when not all restarts run)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for k in range(workload.k_min, workload.k_max + 1):
            for restart in range(workload.sklearn_restarts_timed):
                GaussianMixture(
                    k,
                    max_iter=workload.max_iter,
                    tol=0.0,
                    init_params="k-means++",
                    random_state=restart,
                ).fit(X)
    elapsed = time.perf_counter() - started
    return elapsed * workload.n_restarts / workload.sklearn_restarts_timed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("workloads", nargs="*", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--repeats", type=int, default=3, help="warm runs; the best is kept")
    args = parser.parse_args(argv)

    print(f"devices: {jax.devices()}  (gmm_core float32 E step; scikit-learn float64)")
    header = (
        f"{'':3} {'N':>9} {'D':>3} {'K':>5} {'R':>3} {'iter':>4} | {'compile s':>9} "
        f"{'gmm_core s':>10} | {'scikit-learn s':>18} | {'ratio':>7}"
    )
    print(header)
    print("-" * len(header))
    for name in args.workloads:
        workload = WORKLOADS[name]
        X = blobs(workload.n_samples, workload.n_features)
        compile_seconds, ours = time_gmm_core(workload, X, args.repeats)
        theirs = time_sklearn(workload, X)
        scaled = workload.sklearn_restarts_timed < workload.n_restarts
        how = f" (×{workload.n_restarts} scaled)" if scaled else ""
        print(
            f"({name}) {workload.n_samples:>9,} {workload.n_features:>3} "
            f"{workload.k_min}..{workload.k_max:<2} {workload.n_restarts:>3} "
            f"{workload.max_iter:>4} | {compile_seconds:>9.2f} {ours:>10.3f} | "
            f"{theirs:>7.2f}{how:>11} | {theirs / ours:>6.1f}×",
            flush=True,
        )


if __name__ == "__main__":
    main()
