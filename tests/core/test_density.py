"""Tests for gmm_core.density against scipy.stats and direct formulas."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from gmm_core import density


def _random_model(
    rng: np.random.Generator, n_components: int, n_features: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    weights = rng.dirichlet(np.ones(n_components))
    means = rng.normal(scale=3.0, size=(n_components, n_features))
    factors = rng.normal(size=(n_components, n_features, n_features))
    covariances = factors @ np.swapaxes(factors, 1, 2) + 0.1 * np.eye(n_features)
    return weights, means, covariances


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_components=st.integers(1, 5),
    n_features=st.integers(1, 5),
)
def test_log_densities_match_scipy(seed: int, n_components: int, n_features: int) -> None:
    rng = np.random.default_rng(seed)
    _, means, covariances = _random_model(rng, n_components, n_features)
    X = rng.normal(scale=4.0, size=(30, n_features))
    result = density.log_gaussian_densities(X, means, covariances)
    assert result.shape == (30, n_components)
    expected = np.column_stack(
        [multivariate_normal(means[k], covariances[k]).logpdf(X) for k in range(n_components)]
    )
    np.testing.assert_allclose(result, expected, rtol=1e-10, atol=1e-10)


def test_log_densities_stay_finite_far_from_the_centre() -> None:
    X = np.array([[1e4, -1e4]])
    result = density.log_gaussian_densities(X, np.zeros((1, 2)), [np.eye(2) * 1e-4])
    expected = multivariate_normal(np.zeros(2), np.eye(2) * 1e-4).logpdf(X)
    assert np.isfinite(result).all()
    np.testing.assert_allclose(result[:, 0], expected, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_components=st.integers(1, 5))
def test_responsibilities_match_direct_bayes_rule(seed: int, n_components: int) -> None:
    rng = np.random.default_rng(seed)
    weights, means, covariances = _random_model(rng, n_components, 3)
    X = rng.normal(scale=3.0, size=(40, 3))
    log_resp, log_likelihood = density.log_responsibilities(X, weights, means, covariances)
    # Reference: Bayes' rule from scipy's log-pdfs, with a hand-written max-shifted log-sum-exp.
    log_joint = np.column_stack(
        [
            np.log(weights[k]) + multivariate_normal(means[k], covariances[k]).logpdf(X)
            for k in range(n_components)
        ]
    )
    shift = log_joint.max(axis=1, keepdims=True)
    expected_likelihood = shift[:, 0] + np.log(np.exp(log_joint - shift).sum(axis=1))
    np.testing.assert_allclose(log_likelihood, expected_likelihood, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(
        log_resp, log_joint - expected_likelihood[:, None], rtol=1e-9, atol=1e-9
    )
    np.testing.assert_allclose(np.exp(log_resp).sum(axis=1), 1.0, rtol=1e-12)


def test_weights_are_normalised() -> None:
    rng = np.random.default_rng(0)
    weights, means, covariances = _random_model(rng, 3, 2)
    X = rng.normal(size=(10, 2))
    normalised = density.log_responsibilities(X, weights, means, covariances)
    scaled = density.log_responsibilities(X, 7.0 * weights, means, covariances)
    np.testing.assert_allclose(scaled[0], normalised[0], rtol=1e-12)
    np.testing.assert_allclose(scaled[1], normalised[1], rtol=1e-12)


def test_zero_weight_component_gives_minus_infinity_not_nan() -> None:
    rng = np.random.default_rng(1)
    _, means, covariances = _random_model(rng, 3, 2)
    weights = np.array([0.5, 0.0, 0.5])
    X = np.vstack([means, rng.normal(size=(20, 2))])
    log_resp, log_likelihood = density.log_responsibilities(X, weights, means, covariances)
    assert not np.isnan(log_resp).any()
    assert np.all(log_resp[:, 1] == -np.inf)
    assert np.isfinite(log_likelihood).all()
    # Same as the model without the empty component.
    keep = [0, 2]
    reduced, reduced_likelihood = density.log_responsibilities(
        X, weights[keep], means[keep], covariances[keep]
    )
    np.testing.assert_allclose(log_resp[:, keep], reduced, rtol=1e-12)
    np.testing.assert_allclose(log_likelihood, reduced_likelihood, rtol=1e-12)
    # Even the point sitting on the empty component's mean is never assigned to it.
    assert not np.any(density.predict_labels(X, weights, means, covariances) == 1)


def test_point_far_from_every_component_does_not_produce_nan() -> None:
    means = np.array([[0.0, 0.0], [1.0, 0.0]])
    covariances = np.stack([np.eye(2) * 1e-6] * 2)
    X = np.array([[1e200, 0.0]])
    log_resp, log_likelihood = density.log_responsibilities(X, [0.3, 0.7], means, covariances)
    assert not np.isnan(log_resp).any()
    assert log_likelihood[0] == -np.inf
    np.testing.assert_allclose(np.exp(log_resp[0]), [0.3, 0.7])


def test_predict_labels_is_the_argmax_of_the_weighted_densities() -> None:
    rng = np.random.default_rng(2)
    weights, means, covariances = _random_model(rng, 4, 2)
    X = rng.normal(scale=3.0, size=(200, 2))
    log_joint = np.column_stack(
        [
            np.log(weights[k]) + multivariate_normal(means[k], covariances[k]).logpdf(X)
            for k in range(4)
        ]
    )
    labels = density.predict_labels(X, weights, means, covariances)
    assert labels.dtype == np.int64 and labels.shape == (200,)
    np.testing.assert_array_equal(labels, np.argmax(log_joint, axis=1))


def test_well_separated_clusters_are_labelled_by_their_centre() -> None:
    means = np.array([[-10.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    covariances = np.stack([np.eye(2)] * 3)
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 3, size=300)
    X = means[truth] + rng.normal(size=(300, 2))
    labels = density.predict_labels(X, np.ones(3) / 3, means, covariances)
    np.testing.assert_array_equal(labels, truth)


@pytest.mark.parametrize(
    ("X", "weights", "means", "covariances", "message"),
    [
        (np.zeros(3), [1.0], np.zeros((1, 3)), np.eye(3)[None], "X must"),
        (np.zeros((2, 3)), [1.0], np.zeros((1, 2)), np.eye(3)[None], "means must"),
        (np.zeros((2, 3)), [1.0], np.zeros((1, 3)), np.eye(2)[None], "covariances must"),
        (np.full((2, 3), np.nan), [1.0], np.zeros((1, 3)), np.eye(3)[None], "non-finite"),
        (np.zeros((2, 3)), [1.0, 1.0], np.zeros((1, 3)), np.eye(3)[None], "weights must"),
        (np.zeros((2, 3)), [-1.0], np.zeros((1, 3)), np.eye(3)[None], "non-negative"),
        (np.zeros((2, 3)), [0.0], np.zeros((1, 3)), np.eye(3)[None], "all be zero"),
        (np.zeros((2, 3)), [1.0], np.zeros((1, 3)), np.zeros((1, 3, 3)), "positive definite"),
    ],
)
def test_bad_input_raises(
    X: np.ndarray, weights: list[float], means: np.ndarray, covariances: np.ndarray, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        density.log_responsibilities(X, weights, means, covariances)
