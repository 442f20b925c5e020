"""Side-by-side benchmark of gmm_core's sweep and scikit-learn's GaussianMixture.

Run ``python -m gmm_core.bench`` (workloads a, b, c), ``python -m gmm_core.bench a c``,
or ``python -m gmm_core.bench large`` for the million-point workloads (1m, 10m).
Both libraries do the same work: the same data, K range, restarts and iterations,
with ``tol=0`` so every fit runs exactly ``max_iter`` iterations and the same
initialisation method (k-means++). Where scikit-learn would take minutes, only part
of its work is timed and scaled up; the table says how in its "scikit-learn" column:
"×R" means one restart of every K times R restarts; "×R·ΣK/K" means one restart of
the largest K times R restarts times ΣK/K_max.

gmm_core runs with one CPU device per core (:func:`gmm_core.cpu_devices.use_cpu_cores`,
unless ``JAX_NUM_CPU_DEVICES`` or ``XLA_FLAGS`` choose a count), so restarts are spread
over the cores; scikit-learn uses its BLAS threads.

Large workloads run in a fresh subprocess each, which reports its own peak resident
memory (``resource.getrusage``), so the figure covers the data, JAX and the sweep.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np

from gmm_core.cpu_devices import use_cpu_cores
from gmm_core.sweep import SweepResult, sweep


class Workload(NamedTuple):
    name: str
    n_samples: int
    n_features: int
    k_min: int
    k_max: int
    n_restarts: int
    max_iter: int
    sklearn_restarts_timed: int  # restarts of every K that scikit-learn actually runs
    sklearn_largest_k_only: bool = False  # time only one restart of K = k_max, then scale
    compare_sklearn: bool = True


WORKLOADS: dict[str, Workload] = {
    "a": Workload("a", 2_000, 2, 1, 6, 8, 100, 8),
    "b": Workload("b", 100_000, 2, 1, 6, 8, 100, 1),
    "c": Workload("c", 20_000, 10, 1, 8, 4, 50, 1),
    "1m": Workload("1m", 1_000_000, 2, 1, 6, 8, 100, 1, sklearn_largest_k_only=True),
    "10m": Workload("10m", 10_000_000, 2, 4, 4, 4, 20, 0, compare_sklearn=False),
}
LARGE = ("1m", "10m")


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


def run_workload(workload: Workload, X: np.ndarray, seed: int = 1) -> SweepResult:
    """gmm_core's sweep of ``workload`` on ``X``: every iteration runs (``tol=0``)."""
    return sweep(
        X,
        workload.k_min,
        workload.k_max,
        workload.n_restarts,
        seed=seed,
        max_iter=workload.max_iter,
        tol=0.0,
    )


def time_gmm_core(workload: Workload, X: np.ndarray, repeats: int) -> tuple[float, float]:
    """(compile seconds, warm wall seconds) of the sweep."""
    first = run_workload(workload, X, seed=0)
    return first.compile_seconds, best_of(repeats, lambda: run_workload(workload, X))


def time_sklearn(workload: Workload, X: np.ndarray) -> float:
    """Wall seconds of scikit-learn for the whole workload (scaled when not all restarts run)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    k_values = range(workload.k_min, workload.k_max + 1)
    timed_k = [workload.k_max] if workload.sklearn_largest_k_only else list(k_values)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for k in timed_k:
            for restart in range(workload.sklearn_restarts_timed):
                GaussianMixture(
                    k,
                    max_iter=workload.max_iter,
                    tol=0.0,
                    init_params="k-means++",
                    random_state=restart,
                ).fit(X)
    elapsed = time.perf_counter() - started
    scale = workload.n_restarts / workload.sklearn_restarts_timed
    if workload.sklearn_largest_k_only:
        scale *= sum(k_values) / workload.k_max
    return elapsed * scale


def scaling_note(workload: Workload) -> str:
    """How the scikit-learn time was scaled, for the table."""
    if workload.sklearn_largest_k_only:
        return f"×{workload.n_restarts}·ΣK/K"
    if workload.sklearn_restarts_timed < workload.n_restarts:
        return f"×{workload.n_restarts}"
    return ""


def peak_resident_bytes() -> int:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_child(name: str, repeats: int) -> None:
    """Time one workload in this (fresh) process and print a JSON line."""
    workload = WORKLOADS[name]
    X = blobs(workload.n_samples, workload.n_features)
    compile_seconds, ours = time_gmm_core(workload, X, repeats)
    print(
        json.dumps(
            {
                "compile": compile_seconds,
                "ours": ours,
                "peak_bytes": peak_resident_bytes(),
                "devices": str(jax.devices()),
            }
        )
    )


def measure_in_subprocess(name: str, repeats: int) -> dict:
    """Run one workload in a fresh interpreter; returns its timings and peak memory."""
    done = subprocess.run(
        [sys.executable, "-m", "gmm_core.bench", "--child", name, "--repeats", str(repeats)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "workloads", nargs="*", help=f"any of {', '.join(WORKLOADS)}, large, all (default: a b c)"
    )
    parser.add_argument("--repeats", type=int, default=5, help="warm runs; the best is kept")
    parser.add_argument("--markdown", help="also write the table, dated, to this Markdown file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    use_cpu_cores()  # before JAX starts: one CPU device per core (each child asks too)
    if args.child:
        run_child(args.child, args.repeats)
        return
    unknown = set(args.workloads) - {*WORKLOADS, "large", "all"}
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    names: list[str] = []
    for name in args.workloads or ["a", "b", "c"]:
        expanded = {"large": list(LARGE), "all": list(WORKLOADS)}.get(name, [name])
        names.extend(n for n in expanded if n not in names)

    setup = f"devices: {jax.devices()}  (gmm_core float32 E step; scikit-learn float64)"
    print(setup)
    header = (
        f"{'':5} {'N':>10} {'D':>3} {'K':>5} {'R':>3} {'iter':>4} | {'compile s':>9} "
        f"{'gmm_core s':>10} {'peak MB':>8} | {'scikit-learn s':>20} | {'ratio':>7}"
    )
    rows = [header, "-" * len(header)]
    print("\n".join(rows))
    for name in names:
        workload = WORKLOADS[name]
        if name in LARGE:
            child = measure_in_subprocess(name, repeats=1)
            compile_seconds, ours = child["compile"], child["ours"]
            peak = f"{child['peak_bytes'] / 2**20:>8.0f}"
        else:
            X = blobs(workload.n_samples, workload.n_features)
            compile_seconds, ours = time_gmm_core(workload, X, args.repeats)
            peak = f"{'':>8}"
        if workload.compare_sklearn:
            X = blobs(workload.n_samples, workload.n_features)
            theirs = time_sklearn(workload, X)
            sklearn_text = f"{theirs:>9.2f} {scaling_note(workload):>10}"
            ratio = f"{theirs / ours:>6.1f}×"
        else:
            sklearn_text, ratio = f"{'not run':>20}", f"{'':>7}"
        rows.append(
            f"({name:>3}) {workload.n_samples:>10,} {workload.n_features:>3} "
            f"{workload.k_min}..{workload.k_max:<2} {workload.n_restarts:>3} "
            f"{workload.max_iter:>4} | {compile_seconds:>9.2f} {ours:>10.3f} {peak} | "
            f"{sklearn_text} | {ratio}"
        )
        print(rows[-1], flush=True)
    if args.markdown:
        write_markdown(args.markdown, setup, rows, argv)


def write_markdown(path: str, setup: str, rows: list[str], argv: list[str] | None) -> None:
    """The table as a dated Markdown page, with the command that made it."""
    command = " ".join(["python -m gmm_core.bench", *(argv if argv is not None else sys.argv[1:])])
    page = [
        "# Benchmark: gmm_core beside scikit-learn",
        "",
        f"Made on {time.strftime('%Y-%m-%d')} by `{command}` on a machine with "
        f"{os.cpu_count()} CPU cores; jax {jax.__version__}. {setup}.",
        "",
        "Both sides do the same work: the same data, K range, restarts and iterations, "
        "`tol=0` so every fit runs `max_iter` iterations, k-means++ starts. Where "
        "scikit-learn would take minutes, part of its work is timed and scaled: "
        '"×R" is one restart of every K times R; "×R·ΣK/K" one restart of the largest K '
        "times R times ΣK/K_max. Compare figures from one run only: a shared machine's "
        "speed moves from day to day.",
        "",
        "```text",
        *rows,
        "```",
        "",
    ]
    Path(path).write_text("\n".join(page))


if __name__ == "__main__":
    main()
