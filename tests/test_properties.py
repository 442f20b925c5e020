"""Property tests: valid parameters and a non-decreasing log-likelihood on random data."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gmm_core import COVARIANCE_TYPES, INIT_METHODS, sweep


@st.composite
def datasets(draw: st.DrawFn) -> np.ndarray:
    n_points = draw(st.integers(min_value=20, max_value=250))
    n_clusters = draw(st.integers(min_value=1, max_value=4))
    seed = draw(st.integers(min_value=0, max_value=2**31 - 1))
    spread = draw(st.sampled_from([1e-3, 0.1, 1.0, 10.0]))
    offset = draw(st.sampled_from([0.0, 5.0, 1e4]))
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, 2)) * 5 + offset
    labels = rng.integers(n_clusters, size=n_points)
    X = centres[labels] + rng.normal(size=(n_points, 2)) * spread
    if draw(st.booleans()):
        X[: n_points // 3] = X[0]  # many duplicates
    return X


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    X=datasets(),
    covariance_type=st.sampled_from(COVARIANCE_TYPES),
    init_params=st.sampled_from(INIT_METHODS),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_fits_are_valid_mixtures(
    X: np.ndarray, covariance_type: str, init_params: str, seed: int
) -> None:
    # EM is only exact (and monotone) while reg_covar is small next to the data's
    # variance; a regulariser comparable to it lowers the likelihood in scikit-learn too.
    reg_covar = 1e-6 * float(np.min(X.var(axis=0)))
    # One K range keeps the number of compiled programs to one per (covariance, init).
    result = sweep(
        X,
        1,
        3,
        2,
        seed=seed,
        covariance_type=covariance_type,
        init_params=init_params,
        max_iter=30,
        reg_covar=reg_covar,
    )
    for row, k in enumerate(result.k_values):
        weights = result.weights[row, :, :k]
        np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-6)
        assert np.all(weights >= 0)
        covariances = result.covariances[row, :, :k]
        np.testing.assert_allclose(covariances, np.swapaxes(covariances, -1, -2), rtol=1e-12)
        assert np.all(np.linalg.eigvalsh(covariances) > 0), "covariances must be positive definite"
        traces = result.log_likelihood[row]
        assert np.all(np.isfinite(traces))
        # EM never decreases the likelihood; allow float32 E-step rounding.
        tolerance = 1e-4 * np.maximum(1.0, np.abs(traces[:, :-1]))
        assert np.all(np.diff(traces, axis=-1) >= -tolerance)
