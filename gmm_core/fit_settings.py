"""The settings of a sweep: one frozen, hashable record, checked once where it is made.

:class:`FitSettings` travels unchanged from the caller (the app's sidebar, the
estimator, a script) to the compiled program, which splits it into its static
configuration and run-time inputs (:mod:`gmm_core.sweep`), and back out on the
:class:`~gmm_core.SweepResult`. Equal settings are equal and hash equal, so a cache
keyed on them hits. Each default lives here and nowhere else.

Must not import streamlit or plotly (``gmm_core`` never does).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from gmm_core import checks as check
from gmm_core.buckets import snapshot_iterations
from gmm_core.covariance_types import COVARIANCE_TYPES
from gmm_core.init import INIT_METHODS

Means = tuple[tuple[float, ...], ...]

DTYPES = ("float32", "float64")


@dataclasses.dataclass(frozen=True)
class FitSettings:
    """What a sweep fits: every K in ``k_min..k_max`` times ``n_restarts`` restarts.

    Attributes
    ----------
    k_min, k_max : the K range, inclusive, 1 <= k_min <= k_max
    n_restarts : random restarts per K
    seed : restart r of K uses ``fold_in(fold_in(key(seed), K), r)``
    init_params : "kmeans", "k-means++", "random", "random_from_data" or "standard_normal"
    covariance_type : "full", "tied", "diag" or "spherical"
    max_iter, tol, reg_covar : as scikit-learn's GaussianMixture (reg_covar in the
        data's units)
    snapshots : how many parameter snapshots to keep (log-spaced iterations, 0 first;
        at most ``gmm_core.buckets.MAX_SNAPSHOTS`` are kept)
    dtype : "float32" (fast) or "float64" for the E step; statistics are always float64
    start_means : (K, D) starting means alone (the app's placed means): equal weights
        1/K and one shared circle, the data's mean variance times I (Bishop's start),
        plus ``reg_covar``;
        ``init_params`` and the seed then play no part. Needs ``k_min == k_max == K``.

    Raises
    ------
    ValueError
        Naming the first setting that is out of range.
    """

    k_min: int
    k_max: int
    n_restarts: int
    seed: int = 0
    init_params: str = "k-means++"
    covariance_type: str = "full"
    max_iter: int = 100
    tol: float = 1e-3
    reg_covar: float = 1e-6
    snapshots: int = 0
    dtype: str = "float32"
    start_means: Means = ()

    def __post_init__(self) -> None:
        k_min = check.check_positive_int(self.k_min, "k_min")
        k_max = check.check_positive_int(self.k_max, "k_max")
        if k_min > k_max:
            raise ValueError(f"k_min ({k_min}) must not exceed k_max ({k_max}).")
        if not check.is_int(self.seed) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {self.seed!r}.")
        if not check.is_int(self.snapshots) or self.snapshots < 0:
            raise ValueError(f"snapshots must be a non-negative integer; got {self.snapshots!r}.")
        if self.dtype not in DTYPES:
            raise ValueError(f"Unknown dtype {self.dtype!r}; choose 'float32' or 'float64'.")
        checked = {
            "k_min": k_min,
            "k_max": k_max,
            "n_restarts": check.check_positive_int(self.n_restarts, "n_restarts"),
            "seed": int(self.seed),
            "init_params": check.check_choice(self.init_params, INIT_METHODS, "init_params"),
            "covariance_type": check.check_choice(
                self.covariance_type, COVARIANCE_TYPES, "covariance_type"
            ),
            "max_iter": check.check_positive_int(self.max_iter, "max_iter"),
            "tol": check.check_non_negative(self.tol, "tol"),
            "reg_covar": check.check_non_negative(self.reg_covar, "reg_covar"),
            "snapshots": int(self.snapshots),
            "start_means": _checked_means(self.start_means, k_min, k_max),
        }
        for name, value in checked.items():  # plain Python values: equal settings hash equal
            object.__setattr__(self, name, value)

    @property
    def k_values(self) -> np.ndarray:
        """(n_k,) int, the K values of the range."""
        return np.arange(self.k_min, self.k_max + 1)

    @property
    def snapshot_at(self) -> tuple[int, ...]:
        """The iterations whose parameters are kept, see :func:`snapshot_iterations`."""
        return snapshot_iterations(self.max_iter, self.snapshots)

    def replace(self, **changes: object) -> FitSettings:
        """A copy with ``changes`` (checked again)."""
        return dataclasses.replace(self, **changes)

    def placed(self, means: Means) -> FitSettings:
        """One fit from the placed ``means`` (K = their count, one restart); unchanged for ()."""
        if not len(means):
            return self
        return self.replace(k_min=len(means), k_max=len(means), n_restarts=1, start_means=means)


def _checked_means(means: object, k_min: int, k_max: int) -> Means:
    """``means`` as a tuple of equally long tuples of finite floats, one per K, or ()."""
    if means is None or (not isinstance(means, np.ndarray) and means == ()):
        return ()
    try:
        array = np.asarray(means, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"start_means must be numbers; got {means!r}.") from None
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"start_means must be a (K, D) array of means; got shape {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError("start_means must be finite numbers.")
    if not k_min == k_max == array.shape[0]:
        raise ValueError(
            f"start_means gives {array.shape[0]} means; it needs k_min == k_max == "
            f"{array.shape[0]}, got {k_min} and {k_max}."
        )
    return tuple(tuple(float(value) for value in row) for row in array)
