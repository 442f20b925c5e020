"""The covariance-type table: names, lookup errors and scikit-learn layouts that round-trip."""

from __future__ import annotations

import numpy as np
import pytest

import gmm_core
from gmm_core import basis, criteria
from gmm_core.covariance_types import COVARIANCE_KINDS, COVARIANCE_TYPES, covariance_kind


def test_the_four_types_in_their_order_everywhere() -> None:
    assert COVARIANCE_TYPES == ("full", "tied", "diag", "spherical")
    assert gmm_core.COVARIANCE_TYPES is COVARIANCE_TYPES
    assert criteria.COVARIANCE_TYPES is COVARIANCE_TYPES
    assert all(COVARIANCE_KINDS[name].name == name for name in COVARIANCE_TYPES)


@pytest.mark.parametrize("name", ["bogus", "Full", "", None, ["full"]])
def test_an_unknown_name_is_a_value_error_naming_the_choices(name: object) -> None:
    with pytest.raises(ValueError, match=r"covariance_type must be one of \('full'"):
        covariance_kind(name)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", COVARIANCE_TYPES)
def test_sklearn_layouts_have_their_shapes_and_round_trip(name: str) -> None:
    kind = covariance_kind(name)
    k, d = 3, 2
    rng = np.random.default_rng(0)
    square = rng.normal(size=(k, d, d))
    full = kind.project(square @ np.swapaxes(square, -1, -2) + np.eye(d))
    if kind.shared:
        full = np.broadcast_to(full[0], full.shape).copy()
    covariances = kind.to_sklearn(full)
    factor = kind.precisions_cholesky(full)
    precisions = kind.precisions_from_cholesky(factor)
    assert covariances.shape == factor.shape == precisions.shape == kind.sklearn_shape(k, d)
    back = kind.covariances_from_precisions(precisions, k, d)
    np.testing.assert_allclose(back, full, rtol=1e-12, atol=1e-12)
    assert kind.diagonal == (not kind.full_quadratic) == (name in ("diag", "spherical"))
    assert basis.n_basis(d, name) == 1 + d + kind.n_quadratic(d)
