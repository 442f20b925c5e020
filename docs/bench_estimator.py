"""Time ``GaussianMixture(n_init=8)`` against scikit-learn's on one data set.

Run from the repository root: ``python docs/bench_estimator.py``. The data set is the
``four_blobs`` preset, 5000 points, 2 features, K = 4, full covariances, default
``tol`` and ``max_iter``. "cold" is the first fit of the process (it compiles the
program); "warm" is the median of three later fits with other seeds (same program).
"""

from __future__ import annotations

import statistics
import time

from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from gmm_core import PRESETS, GaussianMixture


def seconds(make: type, seed: int, X: object, **settings: object) -> float:
    started = time.perf_counter()
    make(4, n_init=8, random_state=seed, **settings).fit(X)
    return time.perf_counter() - started


def main() -> None:
    X, _ = PRESETS["four_blobs"].sample(n=5000, seed=0)
    for label, make, settings in (
        ("gmm_core float32", GaussianMixture, {}),
        ("gmm_core float64", GaussianMixture, {"dtype": "float64"}),
        ("scikit-learn", SklearnGaussianMixture, {}),
    ):
        cold = seconds(make, 0, X, **settings)
        warm = statistics.median(seconds(make, seed, X, **settings) for seed in (1, 2, 3))
        print(f"{label:18s} cold {cold:6.2f} s   warm {warm:6.3f} s")


if __name__ == "__main__":
    main()
