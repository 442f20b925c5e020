"""Bad input raises a ValueError that names the problem; degenerate data stays finite."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gmm_core import GaussianMixture, sweep

rng = np.random.default_rng(0)
GOOD = rng.normal(size=(200, 2))


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.array([[0.0, 1.0], [np.nan, 2.0], [1.0, 1.0]]), "NaN"),
        (np.array([[0.0, 1.0], [np.inf, 2.0], [1.0, 1.0]]), "infinite"),
        (np.arange(10.0), "2-D"),
        (np.zeros((2, 3, 4)), "2-D"),
        (np.array([["a", "b"], ["c", "d"]]), "numeric"),
        (pd.DataFrame({"x": ["1", "oops"], "y": [1, 2]}), "numeric"),
        ([[1.0, 2.0], [3.0]], "array"),
        (np.zeros((0, 2)), "empty"),
        (np.array([[1 + 2j, 0], [0, 1]]), "complex"),
    ],
)
def test_bad_data_is_named(X: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sweep(X, 1, 2, 1)
    with pytest.raises(ValueError, match=message):
        GaussianMixture(1).fit(X)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(k_min=3, k_max=2), "k_min"),
        (dict(k_min=0, k_max=2), "k_min"),
        (dict(k_min=1, k_max=500), "Too few points"),
        (dict(tol=-1.0), "tol"),
        (dict(reg_covar=-1e-6), "reg_covar"),
        (dict(max_iter=0), "max_iter"),
        (dict(max_iter=-5), "max_iter"),
        (dict(init_params="kmeans+++"), "init_params"),
        (dict(covariance_type="banana"), "covariance_type"),
        (dict(n_restarts=0), "n_restarts"),
        (dict(seed=-1), "seed"),
    ],
)
def test_bad_settings_are_named(kwargs: dict, message: str) -> None:
    settings = dict(k_min=1, k_max=3, n_restarts=2) | kwargs
    with pytest.raises(ValueError, match=message):
        sweep(GOOD[:100] if "k_max" in kwargs else GOOD, **settings)


def test_estimator_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="Too few points"):
        GaussianMixture(5).fit(GOOD[:3])
    with pytest.raises(ValueError, match="n_components"):
        GaussianMixture(0).fit(GOOD)
    with pytest.raises(ValueError, match="n_init"):
        GaussianMixture(2, n_init=0).fit(GOOD)
    with pytest.raises(ValueError, match="precisions_init"):
        GaussianMixture(2, precisions_init=np.ones((3, 2, 2))).fit(GOOD)
    model = GaussianMixture(2, random_state=0).fit(GOOD)
    with pytest.raises(ValueError, match="features"):
        model.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="not fitted"):
        GaussianMixture(2).predict(GOOD)


#: Every degenerate case has 2 columns, at most this many points and K = 1..5 or 1..6, so
#: that the 28 cases share one compiled program per covariance type.
DEGENERATE_POINTS = 250


def _duplicates() -> np.ndarray:
    return np.repeat(rng.normal(size=(5, 2)), 40, axis=0)


def _collinear() -> np.ndarray:
    t = rng.normal(size=DEGENERATE_POINTS)
    return np.stack([t, 2 * t + 1], axis=1)


def _constant_column() -> np.ndarray:
    return np.column_stack([rng.normal(size=DEGENERATE_POINTS), np.full(DEGENERATE_POINTS, 7.0)])


def _offset() -> np.ndarray:
    return rng.normal(size=(DEGENERATE_POINTS, 2)) + 1e6


def _all_identical() -> np.ndarray:
    return np.ones((50, 2))


def _tiny_and_huge_scales() -> np.ndarray:
    return np.column_stack(
        [rng.normal(size=DEGENERATE_POINTS) * 1e-4, rng.normal(size=DEGENERATE_POINTS) * 1e4]
    )


DEGENERATE = {
    "duplicates": (_duplicates, 5),
    "duplicates_more_components_than_distinct": (_duplicates, 6),
    "collinear": (_collinear, 5),
    "constant_column": (_constant_column, 5),
    "offset_1e6": (_offset, 5),
    "all_identical": (_all_identical, 5),
    "tiny_and_huge_scales": (_tiny_and_huge_scales, 5),
}


@pytest.mark.parametrize("case", sorted(DEGENERATE))
@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_degenerate_data_gives_finite_results(case: str, covariance_type: str) -> None:
    make, k_max = DEGENERATE[case]
    X = make()
    result = sweep(X, 1, k_max, 3, seed=1, covariance_type=covariance_type, max_iter=60)
    final = result.final.as_dict()
    for name, values in {
        "log_likelihood": result.log_likelihood,
        "final_log_likelihood": result.final_log_likelihood,
        **final,
    }.items():
        assert np.all(np.isfinite(values)), f"{name} has non-finite values"
    assert np.all(np.isfinite(result.bic))
    eigenvalues = np.linalg.eigvalsh(result.final.covariances[-1, :, :k_max])
    assert np.all(eigenvalues > 0)


def test_components_equal_to_distinct_points() -> None:
    X = _duplicates()
    model = GaussianMixture(5, n_init=2, random_state=0).fit(X)
    assert np.all(np.isfinite(model.means_)) and np.all(np.isfinite(model.covariances_))
    assert np.isfinite(model.score(X))
    assert np.all(np.isfinite(model.predict_proba(X)))


def test_offset_gives_the_same_fit_as_centred_data() -> None:
    X = rng.normal(size=(400, 2)) * [1.0, 3.0]
    centred = GaussianMixture(2, random_state=4, n_init=2).fit(X)
    shifted = GaussianMixture(2, random_state=4, n_init=2).fit(X + 1e6)
    np.testing.assert_allclose(shifted.means_ - 1e6, centred.means_, atol=1e-3)
    np.testing.assert_allclose(shifted.covariances_, centred.covariances_, rtol=1e-3)
