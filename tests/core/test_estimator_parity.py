"""GaussianMixture against scikit-learn's from identical initial parameters, in float64.

Every public method and attribute must agree within 1e-6, also for ``warm_start`` and
``max_iter=0``. The data and settings keep to one shape bucket (180 points, 2 features,
``max_iter`` ≤ 10) so that the fits share a few compiled programs.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from gmm_core import COVARIANCE_TYPES, GaussianMixture

CENTRES = np.array([[0.0, 0.0], [6.0, 1.0], [1.0, 7.0]])
ATTRIBUTES = ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_")


def _blobs(seed: int = 0, n_per_blob: int = 60) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scales = np.array([[1.0, 0.5], [0.7, 1.2], [0.9, 0.9]])
    points = [
        rng.normal(size=(n_per_blob, 2)) * s + c for s, c in zip(scales, CENTRES, strict=True)
    ]
    return np.concatenate(points) + 50.0


def _starts(X: np.ndarray, covariance_type: str) -> dict[str, np.ndarray]:
    """Deliberately poor starting values, so EM has work to do."""
    k, d = len(CENTRES), X.shape[1]
    precisions = {
        "full": np.stack([np.array([[0.5, 0.1], [0.1, 0.3]])] * k),
        "tied": np.array([[0.5, 0.1], [0.1, 0.3]]),
        "diag": np.full((k, d), 0.4),
        "spherical": np.array([0.2, 0.3, 0.4]),
    }[covariance_type]
    return {
        "weights_init": np.array([0.5, 0.3, 0.2]),
        "means_init": X[[0, 1, 2]] + np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]]),
        "precisions_init": precisions,
    }


def _close(ours: object, theirs: object, name: str) -> None:
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6, err_msg=name)


def _pair(**settings: object) -> tuple[GaussianMixture, SklearnGaussianMixture]:
    return (
        GaussianMixture(len(CENTRES), dtype="float64", **settings),
        SklearnGaussianMixture(len(CENTRES), **settings),
    )


def _assert_same_fit(ours: GaussianMixture, theirs: SklearnGaussianMixture) -> None:
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.converged_ == theirs.converged_
    for name in ATTRIBUTES:
        _close(getattr(ours, name), getattr(theirs, name), name)
    _close(ours.lower_bound_, theirs.lower_bound_, "lower_bound_")
    assert len(ours.lower_bounds_) == len(theirs.lower_bounds_) == theirs.n_iter_
    _close(ours.lower_bounds_, theirs.lower_bounds_, "lower_bounds_")


def _assert_same_methods(
    ours: GaussianMixture, theirs: SklearnGaussianMixture, X: np.ndarray
) -> None:
    for method in ("predict", "predict_proba", "score_samples", "score", "bic", "aic"):
        _close(getattr(ours, method)(X), getattr(theirs, method)(X), method)
    for n_samples in (1, 40):
        (our_points, our_labels), (their_points, their_labels) = (
            ours.sample(n_samples),
            theirs.sample(n_samples),
        )
        _close(our_points, their_points, "sample")
        np.testing.assert_array_equal(our_labels, their_labels)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_every_public_method_matches_sklearn(covariance_type: str) -> None:
    X = _blobs()
    X_new = _blobs(seed=1, n_per_blob=20) + np.array([0.5, -0.5])
    settings = dict(covariance_type=covariance_type, max_iter=10, tol=1e-4, random_state=3)
    ours, theirs = _pair(**settings, **_starts(X, covariance_type))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        our_labels, their_labels = ours.fit_predict(X), theirs.fit_predict(X)
    np.testing.assert_array_equal(our_labels, their_labels)
    _assert_same_fit(ours, theirs)
    _assert_same_methods(ours, theirs, X_new)


def test_warm_start_continues_like_sklearn() -> None:
    X = _blobs(seed=2)
    settings = dict(max_iter=3, tol=1e-9, warm_start=True, **_starts(X, "full"))
    ours, theirs = _pair(**settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(3):
            ours.fit(X)
            theirs.fit(X)
            _assert_same_fit(ours, theirs)
    # The third fit started from the second's parameters, not from weights_init again.
    cold = GaussianMixture(len(CENTRES), dtype="float64", **(settings | {"warm_start": False}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cold.fit(X)
    assert ours.lower_bound_ > cold.lower_bound_


def test_warm_start_after_convergence_stops_after_one_iteration_like_sklearn() -> None:
    X = _blobs(seed=4)
    ours, theirs = _pair(
        covariance_type="diag",
        max_iter=10,
        tol=0.05,
        warm_start=True,
        random_state=0,
        **_starts(X, "diag"),
    )
    ours.fit(X)
    theirs.fit(X)
    assert theirs.converged_, "the first fit must converge for this test to mean anything"
    _assert_same_fit(ours, theirs)
    ours.fit(X)
    theirs.fit(X)
    assert theirs.n_iter_ == 1
    _assert_same_fit(ours, theirs)
    _assert_same_methods(ours, theirs, X)


@pytest.mark.parametrize("init_params", ["kmeans", "random"])
def test_max_iter_0_initialises_like_sklearn_for_one_component(init_params: str) -> None:
    """With one component every init method gives the data's mean and covariance."""
    X = _blobs(seed=5)
    settings = dict(max_iter=0, init_params=init_params, random_state=0, reg_covar=1e-3)
    ours = GaussianMixture(1, dtype="float64", **settings)
    theirs = SklearnGaussianMixture(1, **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # max_iter=0 warns about nothing
        ours.fit(X)
        theirs.fit(X)
    assert ours.n_iter_ == 0 and ours.lower_bounds_ == [] and ours.lower_bound_ == -np.inf
    assert theirs.lower_bound_ == -np.inf and not ours.converged_
    _assert_same_fit(ours, theirs)
    _assert_same_methods(ours, theirs, X)


def test_max_iter_0_kmeans_gives_sklearn_parameters_on_separated_blobs() -> None:
    X = _blobs(seed=6)
    ours = GaussianMixture(3, max_iter=0, random_state=0, dtype="float64").fit(X)
    theirs = SklearnGaussianMixture(3, max_iter=0, random_state=0).fit(X)
    mine, sklearns = np.argsort(ours.means_[:, 0]), np.argsort(theirs.means_[:, 0])
    for name in ATTRIBUTES:
        _close(getattr(ours, name)[mine], getattr(theirs, name)[sklearns], name)
    assert ours.n_iter_ == theirs.n_iter_ == 0


def test_max_iter_0_keeps_every_given_start() -> None:
    """scikit-learn 1.9.1 raises AttributeError here (no covariances_); we keep the starts."""
    X = _blobs(seed=7)
    for covariance_type in ("full", "spherical"):
        starts = _starts(X, covariance_type)
        ours = GaussianMixture(
            3, max_iter=0, covariance_type=covariance_type, dtype="float64", **starts
        ).fit(X)
        _close(ours.weights_, starts["weights_init"], "weights_")
        _close(ours.means_, starts["means_init"], "means_")
        _close(ours.precisions_, starts["precisions_init"], "precisions_")
