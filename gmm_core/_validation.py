"""Checks of user input that raise a ``ValueError`` naming the problem."""

from __future__ import annotations

import numbers

import numpy as np

from gmm_core.init import INIT_METHODS
from gmm_core.model import COVARIANCE_TYPES


def as_data_matrix(X: object, name: str = "X") -> np.ndarray:
    """Return ``X`` as a finite float64 array of shape (n_samples, n_features).

    Raises
    ------
    ValueError
        For non-numeric data, a shape other than 2-D, no samples or features, NaN or inf.
    """
    if hasattr(X, "to_numpy"):
        X = X.to_numpy()
    try:
        array = np.asarray(X)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{name} could not be read as an array: {error}") from None
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
        try:
            array = array.astype(np.float64)
        except (ValueError, TypeError):
            raise ValueError(
                f"{name} must be numeric; got values of type {array.dtype} that are not numbers."
            ) from None
    if np.iscomplexobj(array):
        raise ValueError(f"{name} must be real-valued; got complex numbers.")
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features); got {array.ndim}-D "
            f"with shape {array.shape}. Use X.reshape(-1, 1) for a single feature."
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {array.shape}; it needs samples and features.")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        n_nan = int(np.isnan(array).sum())
        n_inf = int(np.isinf(array).sum())
        raise ValueError(
            f"{name} contains NaN or infinite values ({n_nan} NaN, {n_inf} inf); "
            "drop or impute them before fitting."
        )
    return array


def check_choice(value: object, choices: tuple[str, ...], name: str) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"Unknown {name} {value!r}; choose one of {', '.join(choices)}.")
    return value


def check_covariance_type(value: object) -> str:
    return check_choice(value, COVARIANCE_TYPES, "covariance_type")


def check_init_params(value: object) -> str:
    return check_choice(value, INIT_METHODS, "init_params")


def check_positive_int(value: object, name: str) -> int:
    """``value`` as an int >= 1 (Python or NumPy integers; not bools or floats)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}.")
    return int(value)


def check_non_negative(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a non-negative number; got {value!r}.")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite, non-negative number; got {value!r}.")
    return float(value)


def check_k_order(k_min: object, k_max: object) -> tuple[int, int]:
    k_min = check_positive_int(k_min, "k_min")
    k_max = check_positive_int(k_max, "k_max")
    if k_min > k_max:
        raise ValueError(f"k_min ({k_min}) must not exceed k_max ({k_max}).")
    return k_min, k_max


def check_enough_points(k_max: int, n_samples: int) -> None:
    if n_samples < k_max:
        raise ValueError(
            f"Too few points: {n_samples} samples cannot be split into {k_max} components; "
            f"lower the largest K to at most {n_samples} or add data."
        )
