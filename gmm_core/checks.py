"""Checks of user input that raise a ``ValueError`` naming the problem.

The one home of the project's input checks: the general ones (:func:`is_int`,
:func:`check_int`, :func:`check_positive_int`, :func:`check_non_negative`,
:func:`check_choice`, :func:`as_data_matrix`) serve ``gmm_core``, ``gmm_figures`` and
``gmm_app``; the sweep's own settings check themselves
(:class:`gmm_core.fit_settings.FitSettings`).

Imports NumPy, JAX and ``gmm_core`` only; must never import ``gmm_figures``,
``gmm_app``, Streamlit or Plotly.
"""

from __future__ import annotations

import numbers

import jax
import numpy as np

from gmm_core import distributed
from gmm_core.device_mesh import choose_mesh_shape


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
    """``value`` if it is one of the strings ``choices``, or ValueError."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"Unknown {name} {value!r}; choose one of {', '.join(choices)}.")
    return value


def is_int(value: object) -> bool:
    """Whether ``value`` is a Python or NumPy integer (bools are not integers here)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(value: object, name: str) -> int:
    """``value`` as an int (Python or NumPy integers; not bools or floats), or ValueError."""
    if not is_int(value):
        raise ValueError(f"{name} must be an integer; got {value!r}.")
    return int(value)


def check_positive_int(value: object, name: str) -> int:
    """``value`` as an int >= 1 (Python or NumPy integers; not bools or floats)."""
    if not is_int(value) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}.")
    return int(value)


def check_non_negative(value: object, name: str) -> float:
    """``value`` as a finite float >= 0 (not a bool), or ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a non-negative number; got {value!r}.")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite, non-negative number; got {value!r}.")
    return float(value)


def check_enough_points(k_max: int, n_samples: int) -> None:
    """ValueError when ``n_samples`` points cannot fill ``k_max`` components."""
    if n_samples < k_max:
        raise ValueError(
            f"Too few points: {n_samples} samples cannot be split into {k_max} components; "
            f"lower the largest K to at most {n_samples} or add data."
        )


def check_user_start(
    k_min: int, k_max: int, user_given: tuple[object, object, object], means_init_only: bool
) -> None:
    """Raise ``ValueError`` when the (weights, means, precisions) start cannot be used."""
    weights_init, means_init, precisions_init = user_given
    if any(value is not None for value in user_given) and k_min != k_max:
        raise ValueError("weights_init, means_init and precisions_init need k_min == k_max.")
    if means_init_only and (means_init is None or weights_init is not None):
        raise ValueError("means_init_only needs means_init and no weights_init.")
    if means_init_only and precisions_init is not None:
        raise ValueError("means_init_only takes no precisions_init: the start is shared.")


def checked_mesh_shape(mesh_shape: tuple[int, int] | None, n_restarts: int) -> tuple[int, int]:
    """(fit shards, point shards): the given one, the processes' one or a chosen one."""
    n_devices = len(jax.devices())
    if distributed.is_multi_process():
        mesh_shape = distributed.process_mesh_devices().shape
    elif mesh_shape is None:
        mesh_shape = choose_mesh_shape(n_devices, n_restarts)
    fit_shards, point_shards = mesh_shape
    if fit_shards < 1 or point_shards < 1 or fit_shards * point_shards > n_devices:
        raise ValueError(f"mesh_shape {mesh_shape} needs more than the {n_devices} devices.")
    return (int(fit_shards), int(point_shards))
