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
