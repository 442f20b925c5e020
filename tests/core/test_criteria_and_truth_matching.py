"""gmm_core.criteria and gmm_core.truth_matching against scikit-learn and brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture

from gmm_core import criteria, truth_matching

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


def _sklearn_n_parameters(n_components: int, n_features: int, covariance_type: str) -> int:
    model = GaussianMixture(n_components=n_components, covariance_type=covariance_type)
    model.means_ = np.zeros((n_components, n_features))
    return model._n_parameters()


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("n_components", [1, 2, 5])
@pytest.mark.parametrize("n_features", [1, 2, 7])
def test_n_parameters_matches_sklearn(
    n_components: int, n_features: int, covariance_type: str
) -> None:
    assert criteria.n_parameters(n_components, n_features, covariance_type) == (
        _sklearn_n_parameters(n_components, n_features, covariance_type)
    )


def test_n_parameters_hand_counts() -> None:
    # Two full 2-D Gaussians: 2 * 3 covariance + 2 * 2 mean + 1 weight.
    assert criteria.n_parameters(2, 2, "full") == 11
    assert criteria.n_parameters(3, 4, "spherical") == 3 + 12 + 2
    with pytest.raises(ValueError, match="covariance_type"):
        criteria.n_parameters(2, 2, "banana")
    with pytest.raises(ValueError, match="n_components"):
        criteria.n_parameters(0, 2, "full")


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_bic_and_aic_match_sklearn(covariance_type: str) -> None:
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(150, 3)), rng.normal(loc=4.0, size=(100, 3))])
    model = GaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(X)
    total = model.score(X) * X.shape[0]
    assert criteria.bic(total, 2, 3, X.shape[0], covariance_type) == pytest.approx(
        model.bic(X), rel=1e-12
    )
    assert criteria.aic(total, 2, 3, X.shape[0], covariance_type) == pytest.approx(
        model.aic(X), rel=1e-12
    )


def test_criteria_vectorise_over_log_likelihoods_and_k() -> None:
    log_likelihoods = np.array([-500.0, -420.0, -415.0])
    ks = np.array([1, 2, 3])
    n_samples = 200
    result = criteria.bic(log_likelihoods, ks, 2, n_samples, "full")
    assert isinstance(result, np.ndarray) and result.shape == (3,)
    expected = [
        -2 * ll + _sklearn_n_parameters(k, 2, "full") * math.log(n_samples)
        for ll, k in zip(log_likelihoods, ks, strict=True)
    ]
    np.testing.assert_allclose(result, expected, rtol=1e-14)
    aic_values = criteria.aic(log_likelihoods, 2, 2, n_samples, "diag")
    np.testing.assert_allclose(
        aic_values, -2 * log_likelihoods + 2 * _sklearn_n_parameters(2, 2, "diag")
    )
    assert isinstance(criteria.bic(-10.0, 1, 1, 5, "full"), float)
    with pytest.raises(ValueError, match="n_samples"):
        criteria.bic(-10.0, 1, 1, 0, "full")


label_lists = st.integers(0, 60).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 5), min_size=n, max_size=n),
        st.lists(st.integers(-3, 3), min_size=n, max_size=n),
    )
)


@settings(max_examples=200, deadline=None)
@given(labels=label_lists)
def test_ari_matches_sklearn(labels: tuple[list[int], list[int]]) -> None:
    labels_true, labels_pred = labels
    expected = adjusted_rand_score(labels_true, labels_pred)
    assert truth_matching.adjusted_rand_index(labels_true, labels_pred) == pytest.approx(
        expected, abs=1e-12
    )


@settings(max_examples=100, deadline=None)
@given(labels=label_lists, seed=st.integers(0, 2**32 - 1))
def test_ari_is_invariant_to_relabelling_and_symmetric(
    labels: tuple[list[int], list[int]], seed: int
) -> None:
    labels_true, labels_pred = (np.asarray(part, dtype=np.int64) for part in labels)
    rng = np.random.default_rng(seed)
    relabel = rng.permutation(6) + 100  # injective renaming of the true labels 0..5
    reference = truth_matching.adjusted_rand_index(labels_true, labels_pred)
    assert truth_matching.adjusted_rand_index(relabel[labels_true], labels_pred) == pytest.approx(
        reference, abs=1e-12
    )
    assert truth_matching.adjusted_rand_index(labels_pred, labels_true) == pytest.approx(
        reference, abs=1e-12
    )
    # Reordering the points together leaves the index unchanged.
    order = rng.permutation(labels_true.size)
    assert truth_matching.adjusted_rand_index(
        labels_true[order], labels_pred[order]
    ) == pytest.approx(reference, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    labels=st.lists(st.integers(0, 6), min_size=1, max_size=80),
    seed=st.integers(0, 2**32 - 1),
)
def test_ari_is_one_for_the_same_partition_under_other_names(labels: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    renamed = (rng.permutation(7) * 3 - 5)[np.asarray(labels)]
    assert truth_matching.adjusted_rand_index(labels, renamed) == 1.0


@pytest.mark.parametrize(
    ("labels_true", "labels_pred"),
    [
        ([0, 0, 0, 0], [1, 1, 1, 1]),  # both a single cluster
        ([0, 1, 2, 3], [3, 2, 1, 0]),  # both all singletons
        ([0, 0, 0, 0], [0, 1, 2, 3]),  # one cluster against singletons
        ([5], [7]),
        ([0, 0, 1, 1], [0, 1, 0, 1]),
        (["a", "a", "b", "c"], ["x", "y", "y", "y"]),
    ],
)
def test_ari_edge_cases_match_sklearn(labels_true: list[object], labels_pred: list[object]) -> None:
    assert truth_matching.adjusted_rand_index(labels_true, labels_pred) == pytest.approx(
        adjusted_rand_score(labels_true, labels_pred), abs=1e-12
    )


def test_ari_large_input_does_not_overflow() -> None:
    # Pair counts near N^2 / 2 = 5e11 multiply to ~1e23, beyond int64.
    rng = np.random.default_rng(0)
    labels_true = rng.integers(0, 3, size=1_000_000)
    labels_pred = np.where(rng.random(labels_true.size) < 0.9, labels_true, 0)
    assert truth_matching.adjusted_rand_index(labels_true, labels_pred) == pytest.approx(
        adjusted_rand_score(labels_true, labels_pred), rel=1e-9
    )


def test_ari_rejects_mismatched_labels() -> None:
    with pytest.raises(ValueError, match="same length"):
        truth_matching.adjusted_rand_index([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="1-D"):
        truth_matching.adjusted_rand_index([[0, 1]], [[0, 1]])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_components=st.integers(1, 8))
def test_matching_recovers_a_permutation_of_noisy_means(seed: int, n_components: int) -> None:
    rng = np.random.default_rng(seed)
    # Centres on a grid 10 apart, noise far smaller than half the spacing.
    grid = np.array(list(itertools.product(range(3), range(3))), dtype=float)
    true_means = 10.0 * grid[rng.choice(9, size=n_components, replace=False)]
    permutation = rng.permutation(n_components)
    est_means = true_means[permutation] + rng.uniform(-1.0, 1.0, size=(n_components, 2))
    matching = truth_matching.match_components(true_means, est_means)
    # est component j is a noisy copy of true component permutation[j].
    np.testing.assert_array_equal(matching.est_to_true, permutation)
    np.testing.assert_array_equal(matching.true_index, np.arange(n_components))
    np.testing.assert_array_equal(permutation[matching.est_index], matching.true_index)
    np.testing.assert_allclose(
        matching.cost, np.linalg.norm(true_means - est_means[matching.true_to_est], axis=1)
    )


def _brute_force_total(cost: np.ndarray) -> float:
    n_true, n_est = cost.shape
    if n_true <= n_est:
        return min(
            sum(cost[i, j] for i, j in enumerate(chosen))
            for chosen in itertools.permutations(range(n_est), n_true)
        )
    return _brute_force_total(cost.T)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_true=st.integers(1, 5),
    n_est=st.integers(1, 5),
)
def test_rectangular_matching_is_optimal(seed: int, n_true: int, n_est: int) -> None:
    rng = np.random.default_rng(seed)
    true_means = rng.normal(size=(n_true, 3))
    est_means = rng.normal(size=(n_est, 3))
    matching = truth_matching.match_components(true_means, est_means)
    assert matching.true_index.size == min(n_true, n_est)
    assert np.count_nonzero(matching.est_to_true >= 0) == min(n_true, n_est)
    assert np.count_nonzero(matching.true_to_est >= 0) == min(n_true, n_est)
    assert len(set(matching.est_index.tolist())) == matching.est_index.size
    distances = np.linalg.norm(true_means[:, None] - est_means[None], axis=-1)
    assert matching.cost.sum() == pytest.approx(_brute_force_total(distances), rel=1e-12)
    unmatched = np.setdiff1d(np.arange(n_est), matching.est_index)
    assert np.all(matching.est_to_true[unmatched] == -1)


def _wasserstein_squared(
    mean_a: np.ndarray, cov_a: np.ndarray, mean_b: np.ndarray, cov_b: np.ndarray
) -> float:
    """Squared 2-Wasserstein distance between two Gaussians, via scipy's sqrtm."""
    root_a = scipy.linalg.sqrtm(cov_a).real
    cross = scipy.linalg.sqrtm(root_a @ cov_b @ root_a).real
    bures = np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(cross)
    return float(np.sum((mean_a - mean_b) ** 2) + bures)


def test_covariance_aware_cost_is_the_wasserstein_distance() -> None:
    rng = np.random.default_rng(5)
    true_means = rng.normal(size=(3, 2))
    est_means = rng.normal(size=(3, 2))
    factors = rng.normal(size=(6, 2, 2))
    covariances = factors @ np.swapaxes(factors, 1, 2) + 0.05 * np.eye(2)
    true_covariances, est_covariances = covariances[:3], covariances[3:]
    matching = truth_matching.match_components(
        true_means, est_means, true_covariances, est_covariances
    )
    for i, j, cost in zip(matching.true_index, matching.est_index, matching.cost, strict=True):
        expected = _wasserstein_squared(
            true_means[i], true_covariances[i], est_means[j], est_covariances[j]
        )
        assert cost == pytest.approx(math.sqrt(expected), rel=1e-7)


def test_covariances_break_ties_between_equal_means() -> None:
    means = np.zeros((2, 2))
    round_ = np.eye(2)
    long_ = np.diag([9.0, 0.01])
    matching = truth_matching.match_components(
        means, means, np.stack([round_, long_]), np.stack([long_, round_])
    )
    np.testing.assert_array_equal(matching.est_to_true, [1, 0])
    np.testing.assert_allclose(matching.cost, 0.0, atol=1e-7)
    with pytest.raises(ValueError, match="both"):
        truth_matching.match_components(means, means, np.stack([round_, long_]))


def test_nan_components_do_not_crash_and_stay_unmatched() -> None:
    true_means = np.array([[0.0, 0.0], [10.0, 0.0]])
    est_means = np.array([[np.nan, np.nan], [9.5, 0.0], [0.2, 0.0]])
    matching = truth_matching.match_components(true_means, est_means)
    np.testing.assert_array_equal(matching.est_to_true, [-1, 1, 0])
    assert np.all(np.isfinite(matching.cost))

    bad_covariances = np.stack([np.full((2, 2), np.nan), np.eye(2), np.eye(2)])
    with_cov = truth_matching.match_components(
        true_means, est_means, np.stack([np.eye(2)] * 2), bad_covariances
    )
    np.testing.assert_array_equal(with_cov.est_to_true, [-1, 1, 0])

    all_nan = truth_matching.match_components(true_means, np.full((2, 2), np.nan))
    assert all_nan.true_index.size == 0
    np.testing.assert_array_equal(all_nan.est_to_true, [-1, -1])


def test_center_errors_report_matched_distances() -> None:
    true_means = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    est_means = np.array([[10.0, 1.0], [0.0, -2.0]])
    errors = truth_matching.center_errors(true_means, est_means)
    np.testing.assert_allclose(errors.distances, [2.0, 1.0, np.inf])
    assert errors.mean_distance == pytest.approx(1.5)
    assert errors.max_distance == pytest.approx(2.0)
    assert errors.n_unmatched == 1

    perfect = truth_matching.center_errors(true_means, true_means[::-1])
    np.testing.assert_array_equal(perfect.distances, 0.0)
    assert perfect.n_unmatched == 0
