"""Figures for the six awkward regimes of issue 11, measured on the current tree.

Run ``python docs/numerics_figures.py`` from the repository root (about a minute
or two). Every figure is printed on one line; fields the tree does not have yet
print as ``n/a``.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from gmm_core import PRESETS, GaussianMixture, adjusted_rand_index, sweep


def decreases(result: object) -> int:
    """Fits whose trace decreases by more than 1e-10 relative within n_iter."""
    count = 0
    for row in range(len(result.k_values)):
        for restart in range(result.n_restarts):
            n = result.n_iter[row, restart]
            trace = result.log_likelihood[row, restart, :n]
            slack = 1e-10 * np.maximum(1.0, np.abs(trace[:-1]))
            count += int(np.any(np.diff(trace) < -slack))
    return count


def dishonest(result: object, tol: float) -> int:
    """Fits flagged converged whose last recorded change is not below tol."""
    count = 0
    for row in range(len(result.k_values)):
        for restart in range(result.n_restarts):
            n = result.n_iter[row, restart]
            trace = result.log_likelihood[row, restart]
            if result.converged[row, restart] and (
                n < 2 or abs(trace[n - 1] - trace[n - 2]) >= tol
            ):
                count += 1
    return count


def far_tight(seed: int = 0, spread: float = 0.0) -> np.ndarray:
    """1,500 points with sigma 1000, plus 300 (near-)duplicates at (7000, 7000)."""
    rng = np.random.default_rng(seed)
    wide = rng.normal(size=(1500, 2)) * 1000.0
    tight = np.array([7000.0, 7000.0]) + rng.normal(size=(300, 2)) * spread
    return np.concatenate([wide, tight])


def point1() -> None:
    X, _ = PRESETS["four_blobs"].sample(n=2000, seed=0)
    for tol in (1e-6, 1e-7, 1e-8, 1e-9):
        result = sweep(X, 1, 6, 8, seed=0, tol=tol, max_iter=1000)
        note = getattr(result, "e_step_float64_reason", "n/a")
        print(
            f"[1] tol={tol:.0e}: decreasing traces {decreases(result)}/48, "
            f"converged {int(result.converged.sum())}/48, dishonest converged "
            f"{dishonest(result, tol)}; float64 note: {note!r}"
        )


def point2_and_4() -> None:
    for spread in (0.0, 1e-5):
        X = far_tight(0, spread)
        theirs = SklearnGaussianMixture(3, n_init=8, random_state=0).fit(X)
        for dtype, label in (("float64", "[2]"), ("float32", "[4]")):
            ours = sweep(X, 3, 3, 8, seed=0, dtype=dtype, max_iter=200)
            best = int(ours.best_restart()[0])
            drop = float(-np.min(np.diff(ours.log_likelihood[0], axis=-1)))
            gap = theirs.score(X) - ours.final_log_likelihood[0, best]
            print(
                f"{label} far-tight spread={spread:g} K=3 dtype={dtype}: largest trace drop "
                f"{drop:.3g}; sklearn best - ours best = {gap:.3g} per point, "
                f"BIC(ours) - BIC(sklearn) = {ours.bic[0, best] - theirs.bic(X):.3g}"
            )


def point3() -> None:
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0]]), 50, axis=0)
    for k, init in ((2, "random_from_data"), (4, "kmeans")):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = GaussianMixture(k, init_params=init, random_state=0).fit(X)
            print(f"[3] two points K={k} {init}: fit ok, score {model.score(X):.4g}")
        except Exception as error:  # noqa: BLE001 - the figure is the error itself
            print(f"[3] two points K={k} {init}: {type(error).__name__}: {str(error)[:70]}")
    result = sweep(X, 2, 2, 4, seed=0, reg_covar=0.0, init_params="kmeans")
    low = float(np.min(np.linalg.eigvalsh(result.final.covariances[0, :, :2])))
    failed = getattr(result, "failed", None)
    print(
        f"[3] reg_covar=0, two points, K=2: smallest eigenvalue {low:.3g}, "
        f"failed flags {failed.tolist() if failed is not None else 'n/a'}"
    )


def point5() -> None:
    X, _ = PRESETS["four_blobs"].sample(n=500, seed=1)
    for init in ("k-means++", "random_from_data"):
        result = sweep(X, 3, 3, 2, seed=0, init_params=init, reg_covar=1e-6)
        means = result.initial.means[0, :, :3].reshape(-1, 2)
        distance = np.min(np.linalg.norm(means[:, None] - X[None], axis=-1), axis=1).max()
        variance = float(np.max(result.initial.covariances[0, :, :3]))
        print(
            f"[5] {init}: initial means' largest distance to a data point {distance:.3g}; "
            f"largest initial covariance entry {variance:.3g} (scikit-learn: 0 and 1e-06)"
        )


def point6() -> None:
    X, labels = PRESETS["elongated"].sample(n=1500, seed=0)
    result = sweep(X, 1, 6, 4, seed=0, init_params="random", tol=1e-3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        k = result.best_k()
    fit = result.mixture(k)
    diffs = X[:, None, :] - fit.means[None]
    inverse = np.linalg.inv(fit.covariances)
    log_p = -0.5 * np.einsum("nki,kij,nkj->nk", diffs, inverse, diffs)
    log_p += np.log(fit.weights) - 0.5 * np.linalg.slogdet(fit.covariances)[1]
    ari = adjusted_rand_index(labels, np.argmax(log_p, axis=1))
    stuck = getattr(result, "stuck", None)
    print(
        f"[6] elongated random tol=1e-3: n_iter K>1 {result.n_iter[1:].max(axis=1).tolist()}, "
        f"best_k {k}, ARI {ari:.3f}, stuck "
        f"{stuck.sum(axis=1).tolist() if stuck is not None else 'n/a'}, "
        f"warnings {[str(w.message)[:60] for w in caught]}"
    )


if __name__ == "__main__":
    point1()
    point2_and_4()
    point3()
    point5()
    point6()
