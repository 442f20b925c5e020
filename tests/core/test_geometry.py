"""Tests for gmm_core.geometry: confidence ellipses and projections."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gmm_core import geometry


def _random_covariance(rng: np.random.Generator) -> np.ndarray:
    """Rotated, possibly very elongated 2x2 covariance built from explicit axes."""
    angle = rng.uniform(0.0, 2.0 * np.pi)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    spreads = rng.uniform(0.05, 5.0, size=2) * np.array([1.0, rng.choice([1.0, 0.1])])
    return rotation @ np.diag(spreads**2) @ rotation.T


def _shoelace_area(polygon: np.ndarray) -> float:
    x, y = polygon[:, 0], polygon[:, 1]
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_sigma=st.floats(0.1, 4.0),
    n_points=st.integers(4, 200),
)
def test_every_vertex_lies_on_the_mahalanobis_contour(
    seed: int, n_sigma: float, n_points: int
) -> None:
    rng = np.random.default_rng(seed)
    mean = rng.normal(scale=10.0, size=2)
    covariance = _random_covariance(rng)
    polygon = geometry.ellipse_polygon(mean, covariance, n_sigma=n_sigma, n_points=n_points)
    assert polygon.shape == (n_points, 2)
    np.testing.assert_array_equal(polygon[0], polygon[-1])
    offsets = polygon - mean
    squared = np.einsum("pi,ij,pj->p", offsets, np.linalg.inv(covariance), offsets)
    np.testing.assert_allclose(squared, n_sigma**2, rtol=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_area_matches_the_ellipse_and_the_inscribed_polygon(seed: int) -> None:
    rng = np.random.default_rng(seed)
    covariance = _random_covariance(rng)
    n_sigma = 2.0
    ellipse_area = math.pi * n_sigma**2 * math.sqrt(np.linalg.det(covariance))

    dense = geometry.ellipse_polygon([1.0, -2.0], covariance, n_sigma, n_points=4001)
    assert _shoelace_area(dense) == pytest.approx(ellipse_area, rel=1e-5)

    # An affine image of a regular m-gon inscribed in the unit circle has area
    # (m / 2) sin(2 pi / m) times the determinant of the map; here det = n^2 sqrt(det S).
    sides = 12
    coarse = geometry.ellipse_polygon([1.0, -2.0], covariance, n_sigma, n_points=sides + 1)
    expected = sides / 2 * math.sin(2 * math.pi / sides) * ellipse_area / math.pi
    assert _shoelace_area(coarse) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_vertex_second_moment_recovers_the_covariance(seed: int) -> None:
    # Vertices of an affine regular m-gon (m >= 3) have second moment A A^T / 2.
    rng = np.random.default_rng(seed)
    covariance = _random_covariance(rng)
    mean = np.array([3.0, 4.0])
    polygon = geometry.ellipse_polygon(mean, covariance, n_sigma=1.5, n_points=31)
    offsets = polygon[:-1] - mean
    np.testing.assert_allclose(
        offsets.T @ offsets / len(offsets), 1.5**2 * covariance / 2, rtol=1e-9, atol=1e-12
    )


def test_principal_axes_follow_the_eigenvectors() -> None:
    angle = math.radians(30.0)
    major = np.array([math.cos(angle), math.sin(angle)])
    minor = np.array([-math.sin(angle), math.cos(angle)])
    covariance = 9.0 * np.outer(major, major) + 0.25 * np.outer(minor, minor)
    polygon = geometry.ellipse_polygon([0.0, 0.0], covariance, n_sigma=2.0, n_points=4001)
    radii = np.linalg.norm(polygon, axis=1)
    longest = polygon[np.argmax(radii)]
    shortest = polygon[np.argmin(radii)]
    assert radii.max() == pytest.approx(2.0 * 3.0, rel=1e-9)
    assert radii.min() == pytest.approx(2.0 * 0.5, rel=1e-9)
    assert abs(longest @ major) / np.linalg.norm(longest) == pytest.approx(1.0, abs=1e-9)
    assert abs(shortest @ minor) / np.linalg.norm(shortest) == pytest.approx(1.0, abs=1e-9)


def test_polygon_runs_counter_clockwise() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        polygon = geometry.ellipse_polygon([0.0, 0.0], _random_covariance(rng), n_points=50)
        assert _shoelace_area(polygon) > 0


def test_degenerate_covariance_gives_a_flat_finite_ellipse() -> None:
    direction = np.array([1.0, 2.0]) / math.sqrt(5.0)
    singular = 4.0 * np.outer(direction, direction)
    singular[0, 1] += 1e-15  # slightly asymmetric, as a fitted covariance may be
    polygon = geometry.ellipse_polygon([1.0, 1.0], singular, n_sigma=1.0)
    assert np.all(np.isfinite(polygon))
    offsets = polygon - 1.0
    # All points on the line through the mean, within +-2 along it.
    cross = offsets[:, 0] * direction[1] - offsets[:, 1] * direction[0]
    np.testing.assert_allclose(cross, 0.0, atol=1e-12)
    assert np.abs(offsets @ direction).max() == pytest.approx(2.0, rel=1e-3)

    # A round-off negative eigenvalue is clamped to 0, not turned into NaN.
    slightly_negative = np.diag([4.0, -1e-14])
    flat = geometry.ellipse_polygon([0.0, 0.0], slightly_negative)
    assert np.all(np.isfinite(flat))
    np.testing.assert_array_equal(flat[:, 1], 0.0)

    zero = geometry.ellipse_polygon([5.0, -5.0], np.zeros((2, 2)))
    np.testing.assert_array_equal(zero, np.tile([5.0, -5.0], (73, 1)))


def test_vectorised_polygons_equal_the_single_version() -> None:
    rng = np.random.default_rng(4)
    means = rng.normal(size=(2, 3, 2))
    covariances = np.stack([[_random_covariance(rng) for _ in range(3)] for _ in range(2)])
    batch = geometry.ellipse_polygons(means, covariances, n_sigma=2.0, n_points=21)
    assert batch.shape == (2, 3, 21, 2)
    for i in range(2):
        for j in range(3):
            np.testing.assert_allclose(
                batch[i, j],
                geometry.ellipse_polygon(means[i, j], covariances[i, j], 2.0, 21),
                rtol=0,
                atol=1e-12,
            )
    # One shared covariance broadcasts against several means.
    shared = geometry.ellipse_polygons(means[0], covariances[0, 0], n_points=9)
    assert shared.shape == (3, 9, 2)
    np.testing.assert_allclose(shared[1] - means[0, 1], shared[0] - means[0, 0], atol=1e-12)


@pytest.mark.parametrize(
    ("mean", "covariance", "kwargs", "message"),
    [
        ([0.0, 0.0, 0.0], np.eye(2), {}, "mean"),
        ([0.0, 0.0], np.eye(3), {}, "covariance"),
        ([np.nan, 0.0], np.eye(2), {}, "non-finite"),
        ([0.0, 0.0], [[1.0, np.inf], [np.inf, 1.0]], {}, "non-finite"),
        ([0.0, 0.0], [[1.0, 0.0], [0.0, -1.0]], {}, "positive semi-definite"),
        ([0.0, 0.0], np.eye(2), {"n_points": 3}, "n_points"),
        ([0.0, 0.0], np.eye(2), {"n_sigma": -1.0}, "n_sigma"),
        ([0.0, 0.0], np.eye(2), {"n_sigma": np.nan}, "n_sigma"),
    ],
)
def test_ellipse_polygon_rejects_bad_input(
    mean: object, covariance: object, kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        geometry.ellipse_polygon(mean, covariance, **kwargs)  # type: ignore[arg-type]


def test_project_covariance_on_columns_and_on_a_matrix() -> None:
    rng = np.random.default_rng(1)
    factor = rng.normal(size=(4, 4))
    covariance = factor @ factor.T
    np.testing.assert_array_equal(
        geometry.project_covariance(covariance, [2, 0]), covariance[np.ix_([2, 0], [2, 0])]
    )
    matrix = rng.normal(size=(2, 4))
    # Independent check: covariance of projected samples is the projected covariance.
    samples = rng.multivariate_normal(np.zeros(4), covariance, size=200_000)
    projected = geometry.project_means(samples, matrix)
    np.testing.assert_allclose(
        np.cov(projected.T), geometry.project_covariance(covariance, matrix), rtol=0.03
    )
    stack = np.stack([covariance, 2 * covariance])
    assert geometry.project_covariance(stack, [0, 1]).shape == (2, 2, 2)


def test_project_means_selects_columns() -> None:
    means = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(geometry.project_means(means, [3, 1]), means[:, [3, 1]])
    with pytest.raises(ValueError, match="out of range"):
        geometry.project_means(means, [0, 4])
    with pytest.raises(ValueError, match="two integers"):
        geometry.project_means(means, [0.0, 1.0])
    with pytest.raises(ValueError, match=r"\(2, 4\)"):
        geometry.project_means(means, np.ones((3, 4)))


def test_principal_axes_find_the_dominant_directions() -> None:
    rng = np.random.default_rng(2)
    basis, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    scales = np.array([10.0, 4.0, 1.0, 0.5, 0.1])
    X = (rng.normal(size=(20_000, 5)) * scales) @ basis.T
    axes = geometry.principal_axes(X)
    assert axes.shape == (2, 5)
    np.testing.assert_allclose(axes @ axes.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(np.abs(axes @ basis[:, :2]), np.eye(2), atol=0.02)
    largest = np.argmax(np.abs(axes), axis=1)
    assert np.all(axes[[0, 1], largest] > 0)
