"""Placed initial means without the app: the core start, the URL codec, clicks and the lift."""

from __future__ import annotations

import numpy as np
import pytest

import gmm_core
from gmm_app import param_types, params, placed_means
from gmm_core.sweep import compilation_count, shared_start_covariance, sweep


def _data() -> np.ndarray:
    spec = gmm_core.PRESETS["unequal_weights"]
    return gmm_core.make_dataset(spec.centers, spec.covariances, spec.weights, 500, 0)[0]


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
def test_means_init_only_starts_from_the_means_equal_weights_and_a_shared_covariance(
    covariance_type: str,
) -> None:
    X = _data()
    means = np.array([[-4.0, -3.0], [4.5, 2.0], [0.5, 5.0]])
    result = sweep(
        X, 3, 3, 1, means_init=means, means_init_only=True, covariance_type=covariance_type
    )
    np.testing.assert_allclose(result.initial.means[0, 0, :3], means, atol=1e-9)
    np.testing.assert_allclose(result.initial.weights[0, 0, :3], 1 / 3)
    expected = shared_start_covariance(np.cov(X.T), 3, covariance_type) + 1e-6 * np.eye(2)
    for start in result.initial.covariances[0, 0, :3]:
        np.testing.assert_allclose(start, expected, rtol=1e-9)
    # scikit-learn's meaning keeps the init method's weights and covariances.
    plain = sweep(X, 3, 3, 1, means_init=means, init_params="random")
    assert not np.allclose(plain.initial.covariances[0, 0, 0], expected)


def test_moving_the_means_reuses_the_compiled_program() -> None:
    X = _data()
    sweep(X, 3, 3, 1, means_init=np.eye(3, 2), means_init_only=True, max_iter=5)
    before = compilation_count()
    result = sweep(X, 3, 3, 1, means_init=np.eye(3, 2) + 2.0, means_init_only=True, max_iter=5)
    assert compilation_count() == before
    np.testing.assert_allclose(result.initial.means[0, 0, :3], np.eye(3, 2) + 2.0, atol=1e-9)


def test_means_init_only_needs_means_and_nothing_else() -> None:
    X = _data()
    with pytest.raises(ValueError, match="means_init_only"):
        sweep(X, 2, 2, 1, means_init_only=True)
    with pytest.raises(ValueError, match="means_init_only"):
        sweep(
            X, 2, 2, 1, means_init=np.zeros((2, 2)), weights_init=[0.5, 0.5], means_init_only=True
        )


def test_the_url_text_of_placed_means_reads_back_exactly() -> None:
    means = ((1.5, -2.0), (0.125, 3.0))
    text = param_types.format_means(means)
    assert text == "1.5,-2;0.125,3"
    assert params.INIT_MEANS.parse([text]).value == means
    assert params.INIT_MEANS.parse([" 1.23456,2 "]).value == ((1.235, 2.0),)
    for bad in ("", "1", "1,x", "inf,0", "1,1;1,1", "2e7,0"):
        result = params.INIT_MEANS.parse([bad])
        assert result.value == () and result.url is None and "no placed means" in result.note


def test_a_click_adds_a_mean_and_a_click_near_one_removes_it() -> None:
    means = placed_means.toggle_mean((), (1.0, 1.0), 0.5, 12)
    means = placed_means.toggle_mean(means, (3.0, 1.0), 0.5, 12)
    assert means == ((1.0, 1.0), (3.0, 1.0))
    assert placed_means.toggle_mean(means, (3.2, 0.9), 0.5, 12) == ((1.0, 1.0),)
    assert placed_means.toggle_mean(means, (5.0, 5.0), 0.5, 2) == means  # full
    grid = placed_means.click_grid([0.0, 10.0], [-1.0, 1.0], 11)
    assert grid.shape == (121, 2) and grid.min(axis=0).tolist() == [0.0, -1.0]


def test_means_placed_on_a_projection_lift_back_onto_it() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4)) @ rng.normal(size=(4, 4))
    axes = gmm_core.geometry.principal_axes(X, 2)
    plane = np.array([[1.0, 2.0], [-3.0, 0.5]])
    lifted = placed_means.lift_means(plane, axes, X.mean(axis=0))
    assert lifted.shape == (2, 4)
    np.testing.assert_allclose(lifted @ axes.T, plane, atol=1e-9)
    # Off the plane, a lifted mean sits at the data mean.
    rest = np.eye(4) - axes.T @ axes
    np.testing.assert_allclose((lifted - X.mean(axis=0)) @ rest, 0.0, atol=1e-9)
    columns = np.eye(4)[[0, 2]]
    np.testing.assert_allclose(
        placed_means.lift_means(plane, columns, X.mean(axis=0))[:, [1, 3]],
        np.broadcast_to(X.mean(axis=0)[[1, 3]], (2, 2)),
    )
