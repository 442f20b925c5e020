"""EM iterates against scikit-learn's, from identical initial parameters, in float64."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from gmm_core import ConvergenceWarning, GaussianMixture

N_COMPONENTS = 3


def _three_blobs(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    spreads = [(1.0, np.array([0.0, 0.0, 0.0])), (0.5, np.array([3.0, 1.0, -1.0]))]
    spreads.append((2.0, np.array([-4.0, 2.0, 5.0])))
    return np.concatenate([rng.normal(size=(300, 3)) * s + c for s, c in spreads]) + 100.0


def _initial_parameters(X: np.ndarray, covariance_type: str, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_features = X.shape[1]
    precision = rng.uniform(0.2, 1.0)
    precisions = {
        "full": np.stack([np.eye(n_features) * precision] * N_COMPONENTS),
        "tied": np.eye(n_features) * precision,
        "diag": np.full((N_COMPONENTS, n_features), precision),
        "spherical": np.full(N_COMPONENTS, precision),
    }[covariance_type]
    return {
        "weights_init": rng.dirichlet(np.ones(N_COMPONENTS)),
        "means_init": X[rng.choice(len(X), N_COMPONENTS, replace=False)],
        "precisions_init": precisions,
    }


def _relative_error(ours: np.ndarray, theirs: np.ndarray) -> float:
    scale = np.maximum(np.abs(theirs), 1e-12 * max(1.0, float(np.max(np.abs(theirs)))))
    return float(np.max(np.abs(ours - theirs) / scale))


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("n_iterations", [1, 5, 50])
def test_iterates_match_sklearn(covariance_type: str, n_iterations: int) -> None:
    X = _three_blobs(seed=7)
    init = _initial_parameters(X, covariance_type, seed=n_iterations)
    settings = dict(covariance_type=covariance_type, max_iter=n_iterations, tol=0.0, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = SklearnGaussianMixture(N_COMPONENTS, **settings).fit(X)
        ours = GaussianMixture(N_COMPONENTS, dtype="float64", **settings).fit(X)

    assert ours.n_iter_ == theirs.n_iter_ == n_iterations
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        error = _relative_error(getattr(ours, name), getattr(theirs, name))
        assert error < 1e-6, f"{name} differs by {error:.2e} relative"
    assert ours.lower_bound_ == pytest.approx(theirs.lower_bound_, rel=1e-9)
    assert ours.score(X) == pytest.approx(theirs.score(X), rel=1e-9)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_convergence_stops_like_sklearn(covariance_type: str) -> None:
    X = _three_blobs(seed=3)
    init = _initial_parameters(X, covariance_type, seed=11)
    settings = dict(covariance_type=covariance_type, max_iter=500, tol=1e-3, **init)
    theirs = SklearnGaussianMixture(N_COMPONENTS, **settings).fit(X)
    ours = GaussianMixture(N_COMPONENTS, dtype="float64", **settings).fit(X)
    assert ours.converged_ and theirs.converged_
    assert ours.n_iter_ == theirs.n_iter_
    assert _relative_error(ours.means_, theirs.means_) < 1e-6
