"""GaussianMixture against scikit-learn's: best of n_init, attributes and methods."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from gmm_core import PRESETS, GaussianMixture


@pytest.mark.parametrize("preset", ["four_blobs", "overlapping", "elongated", "unequal_weights"])
@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_best_of_n_init_is_no_worse_than_sklearn(preset: str, covariance_type: str) -> None:
    X, _ = PRESETS[preset].sample(n=1200, seed=5)
    k = PRESETS[preset].true_k
    settings = dict(covariance_type=covariance_type, n_init=5, random_state=0)
    ours = GaussianMixture(k, **settings).fit(X)
    theirs = SklearnGaussianMixture(k, **settings).fit(X)
    assert ours.score(X) >= theirs.score(X) - 1e-3


@pytest.mark.slow
def test_attributes_and_methods_have_sklearn_shapes() -> None:
    X, _ = PRESETS["elongated"].sample(n=900, seed=1)
    for covariance_type in ("full", "tied", "diag", "spherical"):
        ours = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
        theirs = SklearnGaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
        for name in ("weights_", "means_", "covariances_", "precisions_cholesky_", "precisions_"):
            assert getattr(ours, name).shape == getattr(theirs, name).shape, name
        assert isinstance(ours.converged_, bool) and ours.n_iter_ >= 1
        assert np.isfinite(ours.lower_bound_)
    proba = ours.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(ours.predict(X), proba.argmax(axis=1))
    assert ours.score(X) == pytest.approx(ours.score_samples(X).mean())
    n = X.shape[0]
    spherical_parameters = 3 + 3 * 2 + (3 - 1)  # variances, means, weights
    assert ours.bic(X) == pytest.approx(-2 * ours.score(X) * n + spherical_parameters * np.log(n))
    samples, labels = ours.sample(500)
    assert samples.shape == (500, 2) and labels.shape == (500,)
    np.testing.assert_array_equal(ours.fit_predict(X), ours.predict(X))


def test_bic_and_aic_agree_with_sklearn_for_the_same_parameters() -> None:
    X, _ = PRESETS["four_blobs"].sample(n=800, seed=2)
    theirs = SklearnGaussianMixture(4, random_state=0).fit(X)
    ours = GaussianMixture(
        4,
        weights_init=theirs.weights_,
        means_init=theirs.means_,
        precisions_init=theirs.precisions_,
        max_iter=1,
        tol=0.0,
        dtype="float64",
    )
    ours.fit(X)
    assert ours.bic(X) == pytest.approx(theirs.bic(X), rel=1e-6)
    assert ours.aic(X) == pytest.approx(theirs.aic(X), rel=1e-6)


def test_random_state_reproduces() -> None:
    X, _ = PRESETS["overlapping"].sample(n=600, seed=0)
    first = GaussianMixture(3, n_init=3, random_state=7).fit(X)
    second = GaussianMixture(3, n_init=3, random_state=7).fit(X)
    np.testing.assert_array_equal(first.means_, second.means_)
