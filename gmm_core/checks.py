"""Checks of user input that raise a ``ValueError`` naming the problem.

The one home of the project's input checks: the general ones (:func:`is_int`,
:func:`check_int`, :func:`check_positive_int`, :func:`check_non_negative`,
:func:`check_choice`, :func:`as_data_matrix`) serve ``gmm_core``, ``gmm_figures`` and
``gmm_app``; :func:`checked_sweep_request` checks the arguments of
:func:`gmm_core.sweep.sweep`.

Imports NumPy, JAX and ``gmm_core`` only; must never import ``gmm_figures``,
``gmm_app``, Streamlit or Plotly.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import NamedTuple

import jax
import numpy as np

from gmm_core import distributed
from gmm_core.buckets import snapshot_iterations
from gmm_core.covariance_types import COVARIANCE_TYPES
from gmm_core.device_mesh import choose_mesh_shape
from gmm_core.init import INIT_METHODS


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


def check_covariance_type(value: object) -> str:
    """``value`` if it is one of the :data:`~gmm_core.COVARIANCE_TYPES`, or ValueError."""
    return check_choice(value, COVARIANCE_TYPES, "covariance_type")


def check_init_params(value: object) -> str:
    """``value`` if it is one of :data:`~gmm_core.init.INIT_METHODS`, or ValueError."""
    return check_choice(value, INIT_METHODS, "init_params")


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


def check_k_order(k_min: object, k_max: object) -> tuple[int, int]:
    """(k_min, k_max) as ints with 1 <= k_min <= k_max, or ValueError."""
    k_min = check_positive_int(k_min, "k_min")
    k_max = check_positive_int(k_max, "k_max")
    if k_min > k_max:
        raise ValueError(f"k_min ({k_min}) must not exceed k_max ({k_max}).")
    return k_min, k_max


def check_enough_points(k_max: int, n_samples: int) -> None:
    """ValueError when ``n_samples`` points cannot fill ``k_max`` components."""
    if n_samples < k_max:
        raise ValueError(
            f"Too few points: {n_samples} samples cannot be split into {k_max} components; "
            f"lower the largest K to at most {n_samples} or add data."
        )


class SweepArguments(NamedTuple):
    """The arguments of :func:`gmm_core.sweep.sweep` as given, by name (unchecked)."""

    X: object
    k_min: int
    k_max: int
    n_restarts: int
    seed: int
    init_params: str
    covariance_type: str
    max_iter: int
    tol: float
    reg_covar: float
    snapshots: int
    dtype: str
    chunk_size: int | None
    mesh_shape: tuple[int, int] | None
    progress: Callable[..., None] | None
    restarts_per_call: int | None
    weights_init: object
    means_init: object
    precisions_init: object
    means_init_only: bool
    timeout: float | None


class SweepRequest(NamedTuple):
    """A sweep's checked arguments: ``data`` (n_samples, n_features) float64, the K range,
    restarts, fit settings, the user-given (weights, means, precisions) start, the chunk
    size, timeout and (fit shards, point shards) mesh shape."""

    data: np.ndarray
    k_min: int
    k_max: int
    n_restarts: int
    settings: SweepSettings
    user_given: tuple[object, object, object]
    means_init_only: bool
    chunk_size: int | None
    timeout: float | None
    mesh_shape: tuple[int, int]


def checked_sweep_request(arguments: SweepArguments) -> SweepRequest:
    """The sweep's arguments checked; ``ValueError`` names the first that is unusable."""
    data = as_data_matrix(arguments.X)
    n_restarts = check_positive_int(arguments.n_restarts, "n_restarts")
    settings = _checked_sweep_settings(
        arguments.seed,
        arguments.init_params,
        arguments.covariance_type,
        arguments.max_iter,
        arguments.tol,
        arguments.reg_covar,
        arguments.snapshots,
        arguments.dtype,
    )
    user_given = (arguments.weights_init, arguments.means_init, arguments.precisions_init)
    _check_user_start(arguments.k_min, arguments.k_max, user_given, arguments.means_init_only)
    chunk_size = arguments.chunk_size
    if chunk_size is not None:
        chunk_size = check_positive_int(chunk_size, "chunk_size")
    timeout = arguments.timeout
    if timeout is not None:
        timeout = check_non_negative(timeout, "timeout")
    per_call = arguments.restarts_per_call
    if per_call is not None:
        per_call = check_positive_int(per_call, "restarts_per_call")
    # A slice larger than the restarts is padded: the mesh spreads the slice's fits, so
    # every restart count up to the slice gets the same mesh, and the same program.
    mesh_shape = _checked_mesh_shape(arguments.mesh_shape, max(n_restarts, per_call or 0))
    k_min, k_max = check_k_order(arguments.k_min, arguments.k_max)
    return SweepRequest(
        data,
        k_min,
        k_max,
        n_restarts,
        settings,
        user_given,
        arguments.means_init_only,
        chunk_size,
        timeout,
        mesh_shape,
    )


class SweepSettings(NamedTuple):
    """A sweep's checked settings of the fits themselves (not of the data or devices)."""

    seed: int
    init_params: str
    covariance_type: str
    max_iter: int
    tol: float
    reg_covar: float  # original units
    snapshots: int
    dtype: str

    @property
    def snapshot_at(self) -> tuple[int, ...]:
        """The iterations whose parameters are kept, see :func:`snapshot_iterations`."""
        return snapshot_iterations(self.max_iter, self.snapshots)


def _checked_sweep_settings(
    seed: int,
    init_params: str,
    covariance_type: str,
    max_iter: int,
    tol: float,
    reg_covar: float,
    snapshots: int,
    dtype: str,
) -> SweepSettings:
    """The settings, checked; ``ValueError`` names the first that is out of range."""
    max_iter = check_positive_int(max_iter, "max_iter")
    tol = check_non_negative(tol, "tol")
    reg_covar = check_non_negative(reg_covar, "reg_covar")
    init_params = check_init_params(init_params)
    covariance_type = check_covariance_type(covariance_type)
    if dtype not in ("float32", "float64"):
        raise ValueError(f"Unknown dtype {dtype!r}; choose 'float32' or 'float64'.")
    if not is_int(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}.")
    if snapshots < 0:
        raise ValueError(f"snapshots must be non-negative; got {snapshots!r}.")
    return SweepSettings(
        seed, init_params, covariance_type, max_iter, tol, reg_covar, snapshots, dtype
    )


def _check_user_start(
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


def _checked_mesh_shape(mesh_shape: tuple[int, int] | None, n_restarts: int) -> tuple[int, int]:
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
