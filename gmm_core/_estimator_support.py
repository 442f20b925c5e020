"""Helpers of :class:`gmm_core.GaussianMixture`: scikit-learn's checks and messages.

scikit-learn's per-type shapes and layouts of covariances and precisions are in
:mod:`gmm_core.covariance_types`.

Kept apart from the estimator so that each module stays short. Every message here says
what scikit-learn 1.9's ``GaussianMixture`` says, in substance, and names the parameter.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_array, check_random_state

from gmm_core import checks as check
from gmm_core.covariance_types import covariance_kind

#: scikit-learn's advice when a covariance is not positive definite (``_gaussian_mixture``).
ILL_DEFINED_COVARIANCE = (
    "Fitting the mixture model failed because some components have ill-defined "
    "empirical covariance (for instance caused by singleton or collapsed samples). "
    "Try to decrease the number of components, increase reg_covar, or scale the input data."
)


def seed_from(random_state: object) -> int:
    """The integer seed of the sweep's key, ``jax.random.key(seed)``, for a random_state.

    None: one draw from NumPy's global ``RandomState`` (``np.random.seed`` makes it
    reproducible, as in scikit-learn); int: the int itself, so ``random_state=7`` gives
    the fits of ``sweep(..., seed=7)``; ``RandomState`` or ``Generator``: one draw
    from it, which advances it, so successive fits differ.
    """
    if check.is_int(random_state):
        return int(random_state)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    return int(check_random_state(random_state).randint(2**31 - 1))


def _checked_shape(value: np.ndarray, expected: tuple, name: str, parameter: str) -> None:
    if value.shape != expected:
        raise ValueError(
            f"The parameter '{name}' should have the shape of {expected}, but got "
            f"{value.shape}: {parameter} must have shape {expected}."
        )


def checked_weights(weights: object, n_components: int) -> np.ndarray:
    """``weights_init`` as a (K,) array in [0, 1] summing to 1, else a ValueError."""
    weights = check_array(weights, dtype=[np.float64, np.float32], ensure_2d=False)
    _checked_shape(weights, (n_components,), "weights", "weights_init")
    if np.any(weights < 0.0) or np.any(weights > 1.0):
        raise ValueError(
            "The parameter 'weights' should be in the range [0, 1], but got max value "
            f"{np.max(weights):.5f}, min value {np.min(weights):.5f} (weights_init)."
        )
    atol = 1e-6 if weights.dtype == np.float32 else 1e-8
    if not np.allclose(abs(1.0 - np.sum(weights)), 0.0, atol=atol):
        raise ValueError(
            "The parameter 'weights' should be normalized, but got sum(weights) = "
            f"{np.sum(weights):.5f} (weights_init)."
        )
    return weights.astype(np.float64)


def checked_means(means: object, n_components: int, n_features: int) -> np.ndarray:
    """``means_init`` as a (K, D) array, else a ValueError naming the expected shape."""
    means = check_array(means, dtype=[np.float64, np.float32], ensure_2d=False)
    _checked_shape(means, (n_components, n_features), "means", "means_init")
    return means.astype(np.float64)


def checked_precisions(
    precisions: object, covariance_type: str, n_components: int, n_features: int
) -> np.ndarray:
    """``precisions_init`` with the covariance type's shape, positive (definite)."""
    kind = covariance_kind(covariance_type)
    expected = kind.sklearn_shape(n_components, n_features)
    precisions = check_array(
        precisions,
        dtype=[np.float64, np.float32],
        ensure_2d=False,
        allow_nd=len(expected) > 2,
    )
    _checked_shape(precisions, expected, f"{covariance_type} precision", "precisions_init")
    if kind.diagonal:
        if np.any(precisions <= 0.0):
            raise ValueError(f"'{covariance_type} precision' should be positive (precisions_init).")
        return precisions.astype(np.float64)
    for matrix in precisions.reshape(-1, n_features, n_features):  # full: K, tied: 1
        if not (np.allclose(matrix, matrix.T) and np.all(np.linalg.eigvalsh(matrix) > 0.0)):
            raise ValueError(
                f"'{covariance_type} precision' should be symmetric, positive-definite "
                "(precisions_init)."
            )
    return precisions.astype(np.float64)


def check_well_defined(covariances: np.ndarray, *arrays: np.ndarray) -> None:
    """Raise scikit-learn's ValueError unless every (..., D, D) covariance is positive definite.

    ``arrays`` (weights, means, ...) must be finite as well.
    """
    finite = all(np.all(np.isfinite(array)) for array in (covariances, *arrays))
    try:
        if finite:
            np.linalg.cholesky(covariances)
    except np.linalg.LinAlgError:
        finite = False
    if not finite:
        raise ValueError(ILL_DEFINED_COVARIANCE)


class VerboseReport:
    """scikit-learn's ``verbose`` messages, replayed from a finished sweep's trace.

    The sweep runs every init and iteration in one compiled program, so the messages
    come after the fit, and at ``verbose >= 2`` each iteration's "time lapse" is the
    program's run time shared equally among the iterations.
    """

    def __init__(self, verbose: int, interval: int) -> None:
        self.verbose = int(verbose)
        self.interval = int(interval)

    def init(
        self,
        index: int,
        lower_bounds: list[float],
        previous: float,
        converged: bool | None,
        seconds: float,
    ) -> None:
        """Messages of init ``index``; ``converged`` None when max_iter is 0."""
        if not self.verbose:
            return
        print(f"Initialization {index}")
        step = seconds / max(len(lower_bounds), 1)
        lapse = 0.0
        for n_iter, bound in enumerate(lower_bounds, start=1):
            lapse += step
            change, previous = bound - previous, bound
            if n_iter % self.interval:
                continue
            if self.verbose == 1:
                print(f"  Iteration {n_iter}")
            else:
                print(f"  Iteration {n_iter}\t time lapse {lapse:.5f}s\t ll change {change:.5f}")
                lapse = 0.0
        if converged is None:
            return
        message = "converged" if converged else "did not converge"
        if self.verbose == 1:
            print(f"Initialization {message}.")
        else:
            final = lower_bounds[-1] if lower_bounds else -np.inf
            print(f"Initialization {message}. time lapse {seconds:.5f}s\t lower bound {final:.5f}.")
