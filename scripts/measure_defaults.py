"""Measure what the Explore and Restarts pages show for a preset and init method.

Prints, for each (preset, init): BIC's K, iterations and distinct animation frames of its
best restart, how far the means travel, and the share of restarts near the best.

    python scripts/measure_defaults.py [preset ...] [--init METHOD ...]
"""

from __future__ import annotations

import argparse

import numpy as np

import gmm_core
from gmm_app import summaries
from gmm_app.params import FIT_DEFAULTS


def distinct_frames(means: np.ndarray) -> int:
    """Number of snapshots (S, K, 2) whose means differ from the previous one."""
    steps = np.abs(np.diff(means, axis=0)).max(axis=(1, 2))
    return 1 + int(np.count_nonzero(steps > 1e-6))


def measure(preset: str, init: str, seed: int = 0, k_range=None) -> dict:
    """One sweep at the app's default fit settings."""
    spec = gmm_core.PRESETS[preset]
    X, _ = gmm_core.make_dataset(spec.centers, spec.covariances, spec.weights, 2000, seed)
    k_min, k_max = k_range or spec.k_range
    settings = FIT_DEFAULTS.replace(k_min=k_min, k_max=k_max, init_params=init)
    result = gmm_core.sweep(X, settings)
    k = result.best_k("bic")
    restart = int(result.best_restart()[result.k_index(k)])
    movie = summaries.animation(result, k, restart)
    travel = np.linalg.norm(movie.means[-1] - movie.means[0], axis=-1).max()
    finals = result.final_log_likelihood[result.k_index(k)]
    return {
        "preset": preset,
        "init": init,
        "bic_k": k,
        "n_iter": int(result.n_iter[result.k_index(k), restart]),
        "frames": distinct_frames(movie.means),
        "travel": round(float(travel), 2),
        "near_best": round(summaries.near_best_fraction(finals), 3),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("presets", nargs="*", default=list(gmm_core.PRESETS))
    parser.add_argument("--init", nargs="*", default=["random", "k-means++", "kmeans"])
    args = parser.parse_args()
    for preset in args.presets:
        for init in args.init:
            print(measure(preset, init), flush=True)
