"""Model-selection criteria: free-parameter counts, BIC and AIC.

Definitions follow scikit-learn's ``GaussianMixture`` so the numbers agree with it.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gmm_core.checks import check_positive_int
from gmm_core.covariance_types import COVARIANCE_TYPES, covariance_kind

__all__ = ["COVARIANCE_TYPES", "aic", "bic", "n_parameters"]


def n_parameters(n_components: int, n_features: int, covariance_type: str) -> int:
    """Number of free parameters of a Gaussian mixture, as in scikit-learn.

    Covariance parameters: full ``K D (D + 1) / 2``, diag ``K D``, tied ``D (D + 1) / 2``,
    spherical ``K``; plus ``K D`` means and ``K - 1`` free weights.

    Parameters
    ----------
    n_components, n_features
        K >= 1 and D >= 1.
    covariance_type
        One of ``"full"``, ``"tied"``, ``"diag"``, ``"spherical"``.

    Returns
    -------
    int
    """
    k = check_positive_int(n_components, "n_components")
    d = check_positive_int(n_features, "n_features")
    covariance_count = covariance_kind(covariance_type).n_covariance_parameters(k, d)
    return covariance_count + k * d + k - 1


def bic(
    total_log_likelihood: ArrayLike,
    n_components: ArrayLike,
    n_features: int,
    n_samples: int,
    covariance_type: str,
) -> float | np.ndarray:
    """Bayesian information criterion ``-2 log L + p ln N`` (lower is better).

    Parameters
    ----------
    total_log_likelihood
        Total (summed over points, not mean) log-likelihood; any shape.
    n_components
        K; an int or an integer array broadcasting against ``total_log_likelihood``.
    n_features, n_samples
        D and N.
    covariance_type
        See :func:`n_parameters`.

    Returns
    -------
    float or np.ndarray
        Broadcast shape of the inputs; a float when both are scalars.
    """
    log_likelihood, parameter_counts = _criterion_inputs(
        total_log_likelihood, n_components, n_features, covariance_type
    )
    samples = check_positive_int(n_samples, "n_samples")
    return _maybe_scalar(-2.0 * log_likelihood + parameter_counts * np.log(samples))


def aic(
    total_log_likelihood: ArrayLike,
    n_components: ArrayLike,
    n_features: int,
    n_samples: int,
    covariance_type: str,
) -> float | np.ndarray:
    """Akaike information criterion ``-2 log L + 2 p`` (lower is better).

    Same arguments and return shape as :func:`bic`; ``n_samples`` is only validated.
    """
    log_likelihood, parameter_counts = _criterion_inputs(
        total_log_likelihood, n_components, n_features, covariance_type
    )
    check_positive_int(n_samples, "n_samples")
    return _maybe_scalar(-2.0 * log_likelihood + 2.0 * parameter_counts)


def _criterion_inputs(
    total_log_likelihood: ArrayLike,
    n_components: ArrayLike,
    n_features: int,
    covariance_type: str,
) -> tuple[np.ndarray, np.ndarray]:
    log_likelihood = np.asarray(total_log_likelihood, dtype=np.float64)
    components = np.asarray(n_components)
    if not np.issubdtype(components.dtype, np.integer):
        raise ValueError(f"n_components must be integer, got dtype {components.dtype}")
    counts = np.vectorize(
        lambda k: n_parameters(int(k), n_features, covariance_type), otypes=[np.float64]
    )(components)
    try:
        np.broadcast_shapes(log_likelihood.shape, counts.shape)
    except ValueError as error:
        raise ValueError(
            f"total_log_likelihood {log_likelihood.shape} and n_components {counts.shape} "
            "do not broadcast"
        ) from error
    return log_likelihood, counts


def _maybe_scalar(values: np.ndarray) -> float | np.ndarray:
    return float(values) if np.ndim(values) == 0 else values
