"""Regression tests for awkward regimes: far tight clusters, two distinct points, small
tol, saddles, and iteration-by-iteration parity with scikit-learn for each init."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from gmm_core import PRESETS, GaussianMixture, sweep
from gmm_core.diagnostics import StuckFitWarning
from gmm_core.seeding import lloyd, pool_ranks
from gmm_core.tolerances import KMEANS_TOL


def _monotone(result) -> bool:
    trace = result.log_likelihood
    slack = 1e-10 * np.maximum(1.0, np.abs(trace[..., :-1]))
    return bool(np.all(np.diff(trace, axis=-1) >= -slack))


def _far_tight(seed: int, spread: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    wide = rng.normal(size=(1500, 2)) * 1000.0
    tight = np.array([7000.0, 7000.0]) + rng.normal(size=(300, 2)) * spread
    return np.concatenate([wide, tight])


@pytest.mark.parametrize(("seed", "spread"), [(0, 0.0), (1, 1e-5)])
def test_far_tight_cluster_matches_sklearn(seed: int, spread: float) -> None:
    X = _far_tight(seed, spread)
    ours = sweep(X, 3, 3, 4, seed=seed, max_iter=200)
    assert _monotone(ours)
    assert not ours.failed.any()
    np.linalg.cholesky(ours.final.covariances[0, :, :3])
    theirs = SklearnGaussianMixture(3, n_init=4, random_state=seed, max_iter=200).fit(X)
    assert ours.final_log_likelihood[0].max() >= theirs.score(X) - 1e-4
    # the tight component's covariance is right to many digits
    tight = np.argmin(ours.mixture(3).covariances[:, 0, 0])
    expected = np.cov(X[1500:].T, bias=True) + 1e-6 * np.eye(2)
    np.testing.assert_allclose(ours.mixture(3).covariances[tight], expected, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize(("k", "init_params"), [(2, "random_from_data"), (4, "kmeans")])
def test_two_distinct_points_fit_like_sklearn(k: int, init_params: str) -> None:
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0]]), 50, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = GaussianMixture(k, init_params=init_params, random_state=0).fit(X)
        theirs = SklearnGaussianMixture(k, init_params=init_params, random_state=0).fit(X)
    assert np.isfinite(model.score(X))
    assert model.score(X) >= theirs.score(X) - 1e-4
    np.linalg.cholesky(model.covariances_)


def test_reg_covar_zero_on_identical_points_marks_failed() -> None:
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0]]), 50, axis=0)
    result = sweep(X, 2, 2, 4, seed=0, reg_covar=0.0, init_params="kmeans")
    assert result.failed.all()
    assert not result.converged.any()
    assert np.all(np.isfinite(result.log_likelihood))


def test_small_tol_switches_to_float64_and_stays_monotone() -> None:
    X, _ = PRESETS["four_blobs"].sample(n=2000, seed=0)
    result = sweep(X, 1, 4, 4, seed=0, tol=1e-9, max_iter=1000)
    assert _monotone(result)
    assert result.converged.all()
    assert result.e_step_float64.all()
    assert "because tol <" in result.e_step_float64_reason
    for row in range(len(result.k_values)):
        for restart in range(result.n_restarts):
            n = result.n_iter[row, restart]
            trace = result.log_likelihood[row, restart]
            assert abs(trace[n - 1] - trace[n - 2]) < 1e-9


def test_default_tol_keeps_float32_after_the_first_steps() -> None:
    X, _ = PRESETS["four_blobs"].sample(n=2000, seed=0)
    result = sweep(X, 1, 4, 2, seed=0, init_params="random")
    assert "because tol" not in result.e_step_float64_reason


def test_saddle_is_flagged_stuck_and_selection_says_so() -> None:
    X, _ = PRESETS["elongated"].sample(n=1500, seed=0)
    result = sweep(X, 1, 4, 4, seed=0, init_params="random", tol=1e-3)
    assert not result.stuck[0].any()
    assert result.stuck[1:3].all() and result.stuck[1:].mean() > 0.8
    with pytest.warns(StuckFitWarning, match="smaller tol"):
        result.best_k()
    assert result.left_out_k() == [k for k in (2, 3, 4) if result.stuck[k - 1].all()]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert result.best_k(warn=False) not in result.left_out_k()
    healthy = sweep(X, 1, 4, 2, seed=0)
    assert not healthy.stuck[2].any() and healthy.left_out_k() == []


def test_estimator_warns_when_its_chosen_fit_is_stuck() -> None:
    X, _ = PRESETS["elongated"].sample(n=1500, seed=0)
    with pytest.warns(StuckFitWarning, match=r"saddle.*k-means\+\+"):
        stuck = GaussianMixture(3, init_params="random", random_state=0).fit(X)
    assert stuck.stuck_
    with warnings.catch_warnings():
        warnings.simplefilter("error", StuckFitWarning)
        moving = GaussianMixture(3, init_params="k-means++", random_state=0).fit(X)
    assert not moving.stuck_


def test_pool_is_distinct_above_the_pool_size() -> None:
    with jax.enable_x64(True):
        for n in (40_000, 1_000_003):
            ranks, valid = pool_ranks(jax.random.key(n), jnp.asarray(n), 32768)
            assert len(np.unique(np.asarray(ranks))) == 32768 and np.all(np.asarray(valid))
            assert np.asarray(ranks).max() < n


def test_lloyd_matches_sklearn_kmeans_from_the_same_seeds() -> None:
    X, _ = PRESETS["four_blobs"].sample(n=600, seed=2)
    seeds = X[[0, 10, 20, 30, 40]]
    theirs = KMeans(5, init=seeds, n_init=1).fit(X)
    tolerance = KMEANS_TOL * np.mean(np.var(X, axis=0))
    with jax.enable_x64(True):
        centres = lloyd(
            jnp.asarray(seeds), jnp.asarray(X), jnp.ones(len(X)), jnp.ones(5, bool), tolerance
        )
    np.testing.assert_allclose(np.asarray(centres), theirs.cluster_centers_, rtol=1e-10)


class _SklearnFromPoints(SklearnGaussianMixture):
    """scikit-learn's one-hot start on given points (as its k-means++/random_from_data)."""

    def __init__(self, indices: np.ndarray, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.indices = indices

    def _initialize_parameters(self, X, random_state, xp=None):  # noqa: ANN001, ANN202
        resp = np.zeros((X.shape[0], self.n_components))
        resp[self.indices, np.arange(self.n_components)] = 1
        self._initialize(X, resp)


@pytest.mark.parametrize("init_params", ["k-means++", "random_from_data"])
@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_one_hot_inits_match_sklearn_every_iteration(
    init_params: str, covariance_type: str
) -> None:
    X, _ = PRESETS["four_blobs"].sample(n=400, seed=5)
    ours = sweep(
        X, 3, 3, 1, seed=4, init_params=init_params, covariance_type=covariance_type,
        dtype="float64", tol=0.0, max_iter=20, reg_covar=1e-2,
    )  # fmt: skip
    chosen = ours.initial.means[0, 0, :3]
    indices = np.argmin(np.linalg.norm(X[None] - chosen[:, None], axis=-1), axis=1)
    np.testing.assert_allclose(X[indices], chosen, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.initial.covariances[0, 0, :3], [1e-2 * np.eye(2)] * 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _SklearnFromPoints(
            indices, n_components=3, covariance_type=covariance_type, tol=0.0, max_iter=20,
            reg_covar=1e-2,
        ).fit(X)  # fmt: skip
    np.testing.assert_allclose(ours.log_likelihood[0, 0, :20], theirs.lower_bounds_, rtol=1e-9)
    np.testing.assert_allclose(ours.final.means[0, 0, :3], theirs.means_, rtol=1e-7, atol=1e-9)
