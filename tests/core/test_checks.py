"""The shared input checks (gmm_core.checks) and tolerances (gmm_core.tolerances)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import gmm_core
from gmm_core.checks import check_int, check_positive_int, is_int

CORE = Path(gmm_core.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    """Top-level names of every module ``path`` imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("value", [0, -3, 7, np.int64(5), np.uint8(2)])
def test_integers_pass(value: object) -> None:
    assert is_int(value)
    assert check_int(value, "n") == int(value)
    assert type(check_int(value, "n")) is int


@pytest.mark.parametrize("value", [True, 2.0, "3", None, np.float64(1.0), np.array(3)])
def test_non_integers_fail_with_the_name(value: object) -> None:
    assert not is_int(value)
    with pytest.raises(ValueError, match=r"^n must be an integer; got "):
        check_int(value, "n")
    with pytest.raises(ValueError, match=r"^n must be an integer >= 1; got "):
        check_positive_int(value, "n")


def test_positive_int_rejects_zero() -> None:
    assert check_positive_int(np.int32(1), "k") == 1
    with pytest.raises(ValueError, match=r"^k must be an integer >= 1; got 0\.$"):
        check_positive_int(0, "k")


def test_tolerances_import_only_numpy() -> None:
    assert _imported_modules(CORE / "tolerances.py") <= {"__future__", "numpy"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"k_min": 0}, r"^k_min must be an integer >= 1; got 0\.$"),
        ({"k_min": 5, "k_max": 3}, r"^k_min \(5\) must not exceed k_max \(3\)\.$"),
        ({"n_restarts": 2.0}, r"^n_restarts must be an integer >= 1"),
        ({"seed": -1}, r"^seed must be a non-negative integer"),
        ({"init_params": "kmeans+"}, r"^Unknown init_params 'kmeans\+'"),
        ({"covariance_type": "round"}, r"^Unknown covariance_type 'round'"),
        ({"max_iter": 0}, r"^max_iter must be an integer >= 1"),
        ({"tol": float("nan")}, r"^tol must be a finite, non-negative number"),
        ({"reg_covar": -1e-6}, r"^reg_covar must be a finite, non-negative number"),
        ({"snapshots": -2}, r"^snapshots must be a non-negative integer"),
        ({"dtype": "float16"}, r"^Unknown dtype 'float16'"),
        ({"start_means": ((0.0, 0.0),)}, r"^start_means gives 1 means; it needs k_min == k_max"),
        ({"k_max": 1, "start_means": ((0.0, float("inf")),)}, r"^start_means must be finite"),
        ({"k_max": 1, "start_means": (("a", "b"),)}, r"^start_means must be numbers"),
    ],
)
def test_fit_settings_reject_bad_values(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        gmm_core.FitSettings(**({"k_min": 1, "k_max": 3, "n_restarts": 2} | changes))


def test_equal_fit_settings_hash_equal() -> None:
    """Settings made from NumPy scalars or lists equal those made from plain values, so a
    cache keyed on them hits."""
    plain = gmm_core.FitSettings(2, 2, 4, tol=1e-3, start_means=((0.0, 1.0), (2.0, 3.0)))
    numpy = gmm_core.FitSettings(
        np.int64(2),
        np.int32(2),
        np.uint8(4),
        tol=np.float64(1e-3),
        start_means=np.eye(2) * 0 + [[0, 1], [2, 3]],
    )
    assert plain == numpy and hash(plain) == hash(numpy)
    assert {plain: "cached"}[numpy] == "cached"
    assert type(numpy.k_min) is int and type(numpy.tol) is float
    assert plain.replace(tol=1e-4) != plain
    assert plain.placed(()) is plain
    one = gmm_core.FitSettings(1, 6, 8).placed(((0.0, 0.0), (1.0, 1.0), (2.0, 0.5)))
    assert (one.k_min, one.k_max, one.n_restarts) == (3, 3, 1)
