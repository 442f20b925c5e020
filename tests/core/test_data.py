"""Tests for gmm_core.data: covariances, the sampler and the presets."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gmm_core import data


def test_cluster_covariance_matches_hand_computed_values() -> None:
    # Rotation by 90 degrees swaps the axes.
    np.testing.assert_allclose(
        data.cluster_covariance(2.0, 0.5, 90.0), [[0.25, 0.0], [0.0, 4.0]], atol=1e-12
    )
    # Rotation by 45 degrees: R diag(a, b) R^T = [[(a+b)/2, (a-b)/2], [(a-b)/2, (a+b)/2]].
    a, b = 9.0, 1.0
    expected = [[(a + b) / 2, (a - b) / 2], [(a - b) / 2, (a + b) / 2]]
    np.testing.assert_allclose(data.cluster_covariance(3.0, 1.0, 45.0), expected, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(
    sigma_x=st.floats(0.0, 10.0),
    sigma_y=st.floats(0.0, 10.0),
    rotation=st.floats(-360.0, 360.0),
)
def test_cluster_covariance_has_requested_spreads(
    sigma_x: float, sigma_y: float, rotation: float
) -> None:
    covariance = data.cluster_covariance(sigma_x, sigma_y, rotation)
    angle = math.radians(rotation)
    direction = np.array([math.cos(angle), math.sin(angle)])
    normal = np.array([-math.sin(angle), math.cos(angle)])
    # Variance along the rotated x axis is sigma_x**2, along its normal sigma_y**2.
    assert direction @ covariance @ direction == pytest.approx(sigma_x**2, abs=1e-9)
    assert normal @ covariance @ normal == pytest.approx(sigma_y**2, abs=1e-9)
    assert direction @ covariance @ normal == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_array_equal(covariance, covariance.T)


def test_cluster_covariance_rejects_negative_sigma() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        data.cluster_covariance(-1.0, 1.0, 0.0)


@pytest.mark.parametrize(
    ("weights", "n", "expected"),
    [
        # quotas 5.5, 3.3, 2.2 -> floors 5, 3, 2 -> one left over, largest fraction 0.5.
        ((0.5, 0.3, 0.2), 11, (6, 3, 2)),
        # quotas 1/3 * 10 each -> floors 3, 3, 3 -> tie goes to the lowest index.
        ((1.0, 1.0, 1.0), 10, (4, 3, 3)),
        # zero weight never gets a point even when there are points left over.
        ((1.0, 0.0, 1.0), 7, (4, 0, 3)),
        ((0.7, 0.2, 0.1), 1, (1, 0, 0)),
    ],
)
def test_allocate_counts_uses_largest_remainder(
    weights: tuple[float, ...], n: int, expected: tuple[int, ...]
) -> None:
    np.testing.assert_array_equal(data.allocate_counts(weights, n), expected)


@settings(max_examples=100, deadline=None)
@given(
    weights=st.lists(st.floats(0.0, 100.0), min_size=1, max_size=8).filter(lambda w: sum(w) > 0),
    n=st.integers(1, 5000),
)
def test_allocate_counts_sums_to_n_and_stays_within_one_of_quota(
    weights: list[float], n: int
) -> None:
    counts = data.allocate_counts(weights, n)
    quotas = np.asarray(weights) / sum(weights) * n
    assert counts.sum() == n
    assert np.all(np.abs(counts - quotas) < 1.0 + 1e-9)
    assert np.all(counts[np.asarray(weights) == 0] == 0)


def test_make_dataset_shapes_types_and_labels() -> None:
    centers = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0]])
    X, y = data.make_dataset(centers, 1.0, [0.25, 0.75], n=400, seed=3)
    assert X.shape == (400, 3) and X.dtype == np.float64
    assert y.shape == (400,) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [100, 300])
    # Labels are shuffled, not sorted by cluster.
    assert not np.all(np.diff(y) >= 0)
    # Every point sits nearest its own centre (the centres are 10 sigma apart).
    nearest = np.argmin(np.linalg.norm(X[:, None, :] - centers[None], axis=-1), axis=1)
    np.testing.assert_array_equal(nearest, y)


def test_make_dataset_is_reproducible_and_seed_dependent() -> None:
    centers = [[0.0, 0.0], [3.0, 3.0]]
    X1, y1 = data.make_dataset(centers, 1.0, None, 50, seed=7)
    X2, y2 = data.make_dataset(centers, 1.0, None, 50, seed=7)
    X3, _ = data.make_dataset(centers, 1.0, None, 50, seed=8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_make_dataset_full_covariances_have_right_moments() -> None:
    centers = np.array([[1.0, -2.0], [-5.0, 4.0]])
    covariances = np.stack(
        [data.cluster_covariance(2.0, 0.5, 30.0), data.cluster_covariance(1.0, 3.0, -60.0)]
    )
    X, y = data.make_dataset(centers, covariances, [0.5, 0.5], n=40_000, seed=11)
    for cluster in range(2):
        points = X[y == cluster]
        np.testing.assert_allclose(points.mean(axis=0), centers[cluster], atol=0.06)
        np.testing.assert_allclose(np.cov(points.T), covariances[cluster], atol=0.12)


def test_make_dataset_sigma_forms_give_the_same_covariances() -> None:
    centers = np.zeros((2, 2))
    per_axis = np.array([[1.0, 3.0], [0.5, 0.5]])
    X, y = data.make_dataset(centers, per_axis, None, n=40_000, seed=2)
    for cluster in range(2):
        np.testing.assert_allclose(
            np.cov(X[y == cluster].T), np.diag(per_axis[cluster] ** 2), atol=0.1
        )
    X, y = data.make_dataset(centers, np.array([2.0, 0.5]), None, n=40_000, seed=2)
    np.testing.assert_allclose(np.cov(X[y == 0].T), 4.0 * np.eye(2), atol=0.15)
    np.testing.assert_allclose(np.cov(X[y == 1].T), 0.25 * np.eye(2), atol=0.02)


@pytest.mark.parametrize(
    "noise",
    [0.0, np.zeros(2), np.zeros((2, 2)), np.zeros((2, 2, 2))],
    ids=["scalar", "per-cluster", "per-axis", "covariance"],
)
def test_zero_noise_puts_every_point_on_its_centre(noise: object) -> None:
    centers = np.array([[1.5, -2.0], [4.0, 7.0]])
    X, y = data.make_dataset(centers, noise, [3.0, 1.0], n=20, seed=0)
    np.testing.assert_array_equal(X, centers[y])


def test_zero_weight_cluster_gets_no_points() -> None:
    _, y = data.make_dataset([[0.0], [1.0], [2.0]], 1.0, [1.0, 0.0, 1.0], n=101, seed=0)
    assert not np.any(y == 1)
    assert y.size == 101


def test_singular_covariance_is_accepted() -> None:
    line = np.array([[[1.0, 1.0], [1.0, 1.0]]])
    X, _ = data.make_dataset([[0.0, 0.0]], line, None, n=50, seed=0)
    np.testing.assert_allclose(X[:, 0], X[:, 1], atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"centers": [0.0, 1.0]}, "centers"),
        ({"centers": [[0.0, np.nan]]}, "non-finite"),
        ({"covariances_or_noise": -1.0}, "non-negative"),
        ({"covariances_or_noise": [1.0, 2.0, 3.0]}, r"shape \(2,\)"),
        ({"covariances_or_noise": np.ones((2, 3))}, r"shape \(2, 2\)"),
        ({"covariances_or_noise": np.ones((2, 2, 3))}, r"shape \(2, 2, 2\)"),
        ({"covariances_or_noise": [[[1.0, 0.5], [0.0, 1.0]]] * 2}, "not symmetric"),
        ({"covariances_or_noise": [[[1.0, 2.0], [2.0, 1.0]]] * 2}, "positive semi-definite"),
        ({"covariances_or_noise": np.inf}, "non-finite"),
        ({"weights": [1.0, -1.0]}, "non-negative"),
        ({"weights": [0.0, 0.0]}, "all be zero"),
        ({"weights": [1.0, 1.0, 1.0]}, r"shape \(2,\)"),
        ({"n": 0}, "n must be"),
        ({"n": 2.5}, "n must be"),
    ],
)
def test_make_dataset_rejects_bad_input(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "centers": [[0.0, 0.0], [5.0, 5.0]],
        "covariances_or_noise": 1.0,
        "weights": None,
        "n": 10,
        "seed": 0,
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        data.make_dataset(**arguments)  # type: ignore[arg-type]


def test_presets_exist_with_expected_structure() -> None:
    required = {"four_blobs", "overlapping", "elongated", "unequal_weights", "k_mismatch"}
    assert required <= set(data.PRESETS)
    assert data.DEFAULT_PRESET in data.PRESETS
    for name, spec in data.PRESETS.items():
        assert spec.name == name
        assert spec.description
        k_min, k_max = spec.k_range
        assert 1 <= k_min <= k_max
        d = spec.n_features
        assert spec.covariances.shape == (len(spec.centers), d, d)
        X, y = spec.sample(n=300, seed=1)
        assert X.shape == (300, d)
        assert set(np.unique(y)) <= set(range(len(spec.centers)))


def test_four_blobs_is_well_separated() -> None:
    spec = data.PRESETS["four_blobs"]
    assert spec.true_k == 4 and spec.n == 2000 and spec.k_range == (1, 6)
    centres = np.asarray(spec.centers)
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=-1)[np.triu_indices(4, 1)]
    largest_sigma = max(max(sx, sy) for sx, sy, _ in spec.sigmas)
    assert largest_sigma == 1.0
    assert gaps.min() >= 6 * largest_sigma


def test_overlapping_preset_overlaps() -> None:
    spec = data.PRESETS["overlapping"]
    assert spec.true_k == 3
    centres = np.asarray(spec.centers)
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=-1)[np.triu_indices(3, 1)]
    smallest_sigma = min(min(sx, sy) for sx, sy, _ in spec.sigmas)
    assert gaps.max() <= 3 * smallest_sigma


def test_elongated_preset_is_rotated_and_stretched() -> None:
    spec = data.PRESETS["elongated"]
    assert spec.true_k == 3
    rotations = set()
    for sigma_x, sigma_y, rotation in spec.sigmas:
        assert max(sigma_x, sigma_y) / min(sigma_x, sigma_y) >= 4
        rotations.add(rotation % 180)
    assert len(rotations) == 3 and 0 not in rotations
    eigenvalues = np.linalg.eigvalsh(spec.covariances)
    assert np.all(np.sqrt(eigenvalues[:, 1] / eigenvalues[:, 0]) >= 4 - 1e-9)


def test_unequal_weights_and_k_mismatch_presets() -> None:
    unequal = data.PRESETS["unequal_weights"]
    assert sorted(unequal.weights, reverse=True) == [0.7, 0.2, 0.1]
    _, y = unequal.sample(n=1000)
    np.testing.assert_array_equal(np.sort(np.bincount(y))[::-1], [700, 200, 100])

    mismatch = data.PRESETS["k_mismatch"]
    assert mismatch.true_k == 6
    assert mismatch.k_range == (1, 4)
    assert mismatch.true_k > mismatch.k_range[1]


def test_sample_noise_scales_every_sigma() -> None:
    spec = data.PRESETS["elongated"]
    X_unit, y_unit = spec.sample(n=600, seed=5, noise=1.0)
    X_scaled, y_scaled = spec.sample(n=600, seed=5, noise=2.5)
    np.testing.assert_array_equal(y_unit, y_scaled)
    # Same random draws, so the offsets from each centre scale exactly.
    centres = np.asarray(spec.centers)
    np.testing.assert_allclose(
        X_scaled - centres[y_scaled], 2.5 * (X_unit - centres[y_unit]), rtol=1e-9, atol=1e-12
    )
    X_flat, y_flat = spec.sample(n=50, noise=0.0)
    np.testing.assert_array_equal(X_flat, centres[y_flat])
    with pytest.raises(ValueError, match="noise"):
        spec.sample(noise=-1.0)


def test_dataset_spec_is_frozen_and_validated() -> None:
    spec = data.PRESETS["four_blobs"]
    with pytest.raises(AttributeError):
        spec.n = 5  # type: ignore[misc]
    with pytest.raises(ValueError, match="sigmas"):
        data.DatasetSpec("bad", "", ((0.0, 0.0),), (), (1.0,), 10, (1, 2))
    with pytest.raises(ValueError, match="k_range"):
        data.DatasetSpec("bad", "", ((0.0, 0.0),), ((1.0, 1.0, 0.0),), (1.0,), 10, (3, 2))


def test_one_dimensional_presets_draw_their_mixture() -> None:
    for name in ("bimodal_1d", "skewed_1d"):
        spec = data.PRESETS[name]
        assert spec.n_features == 1 and spec.means.shape == (spec.true_k, 1)
        X, y = spec.sample(n=20_000, seed=3)
        for k, ((centre,), (sigma,)) in enumerate(zip(spec.centers, spec.sigmas, strict=True)):
            assert abs(X[y == k, 0].mean() - centre) < 0.1
            assert abs(X[y == k, 0].std() - sigma) < 0.1
    skewed = data.PRESETS["skewed_1d"].sample(n=20_000, seed=3)[0][:, 0]
    centred = skewed - skewed.mean()
    assert (centred**3).mean() / centred.std() ** 3 > 0.5  # right-skewed


def test_singularity_preset_has_a_clump_inside_a_broad_cluster() -> None:
    spec = data.PRESETS["singularity"]
    X, y = spec.sample(seed=0)
    clump = X[y == 1]
    assert 50 <= len(clump) <= 0.2 * len(X)
    assert clump.std(axis=0).max() < 0.01 < X[y == 0].std(axis=0).min()
    assert spec.init_params == "k-means++"


def test_a_spec_of_mixed_dimensions_is_refused() -> None:
    with pytest.raises(ValueError, match="pair"):
        data.DatasetSpec("bad", "x", ((0.0,), (1.0, 2.0)), ((1.0,), (1.0,)), (1, 1), 10, (1, 2))
    with pytest.raises(ValueError, match="sigmas"):
        data.DatasetSpec("bad", "x", ((0.0,),), ((1.0, 1.0, 0.0),), (1,), 10, (1, 2))
