"""The four covariance types of a Gaussian mixture, as one table.

Everything that depends on the covariance type ("full", "tied", "diag",
"spherical") lives in its :class:`CovarianceKind`: the number of free covariance
parameters, how the M step turns scatter matrices into covariances, whether the
log-density needs every product x_i x_j, and the conversions between the full
(component, feature, feature) matrices that ``gmm_core`` always stores (see
:class:`gmm_core.mixture.MixtureParams`) and scikit-learn's per-type layouts of
``covariances_``, ``precisions_`` and ``precisions_cholesky_``. Callers look the
kind up with :func:`covariance_kind` instead of comparing names.

The covariance type is a static string when a program is traced, so the lookup
happens at trace time: the compiled programs are the ones the type alone decides.

JAX, NumPy and SciPy only; like all of ``gmm_core`` it must not import streamlit or plotly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax.numpy as jnp
import numpy as np
import scipy.linalg
from jax import Array

__all__ = ["COVARIANCE_KINDS", "COVARIANCE_TYPES", "CovarianceKind", "covariance_kind"]


@dataclasses.dataclass(frozen=True)
class CovarianceKind:
    """What one covariance type means for counting, fitting and converting covariances.

    Shapes use K components and D features. "Full matrices" are (K, D, D), the form
    in which ``gmm_core`` keeps every type's covariances.

    Attributes
    ----------
    name : "full", "tied", "diag" or "spherical"
    full_quadratic : the log-density needs every product x_i x_j (full, tied), not
        only the squares x_i² (diag, spherical); see :func:`gmm_core.basis.point_features`
    shared : one covariance for all components (tied)
    n_covariance_parameters : (K, D) -> free covariance parameters, as scikit-learn counts
    m_step : (scatter (..., K, D, D), regularised mass (..., K), component mask
        (..., K) bool, identity (D, D)) -> covariances (..., K, D, D), before
        ``reg_covar``; JAX, traced inside the compiled M step
    project : full matrices (..., D, D) -> the nearest matrices of this type, one by
        one (NumPy): the diagonal part (diag), the mean variance times I (spherical),
        unchanged (full, tied)
    sklearn_shape : (K, D) -> shape of scikit-learn's ``covariances_`` and ``precisions_``
    to_sklearn : full matrices (K, D, D) -> scikit-learn's ``covariances_``
    precisions_cholesky : full matrices (K, D, D) -> scikit-learn's ``precisions_cholesky_``
    precisions_from_cholesky : ``precisions_cholesky_`` -> ``precisions_``, as
        scikit-learn computes them
    covariances_from_precisions : (precisions in scikit-learn's shape, K, D) -> full
        matrices (K, D, D)
    """

    name: str
    full_quadratic: bool
    shared: bool
    n_covariance_parameters: Callable[[int, int], int]
    m_step: Callable[[Array, Array, Array, Array], Array]
    project: Callable[[np.ndarray], np.ndarray]
    sklearn_shape: Callable[[int, int], tuple[int, ...]]
    to_sklearn: Callable[[np.ndarray], np.ndarray]
    precisions_cholesky: Callable[[np.ndarray], np.ndarray]
    precisions_from_cholesky: Callable[[np.ndarray], np.ndarray]
    covariances_from_precisions: Callable[[np.ndarray, int, int], np.ndarray]

    @property
    def diagonal(self) -> bool:
        """Whether every covariance is diagonal (diag, spherical)."""
        return not self.full_quadratic

    def n_quadratic(self, n_features: int) -> int:
        """Quadratic polynomial features per point: D (D + 1) / 2 products, or D squares."""
        if self.full_quadratic:
            return n_features * (n_features + 1) // 2
        return n_features


# M steps (JAX). scatter: (..., K, D, D); mass_reg: (..., K); component_mask: (..., K).


def _full_m_step(scatter: Array, mass_reg: Array, component_mask: Array, identity: Array) -> Array:
    return scatter / mass_reg[..., None, None]


def _tied_m_step(scatter: Array, mass_reg: Array, component_mask: Array, identity: Array) -> Array:
    """The scatter of the active components pooled, repeated for every component."""
    active_scatter = jnp.where(component_mask[..., None, None], scatter, 0.0)
    active_mass = jnp.where(component_mask, mass_reg, 0.0)
    tied = jnp.sum(active_scatter, axis=-3) / jnp.sum(active_mass, axis=-1)[..., None, None]
    return jnp.broadcast_to(tied[..., None, :, :], scatter.shape)


def _diag_m_step(scatter: Array, mass_reg: Array, component_mask: Array, identity: Array) -> Array:
    return scatter * identity / mass_reg[..., None, None]


def _spherical_m_step(
    scatter: Array, mass_reg: Array, component_mask: Array, identity: Array
) -> Array:
    n_features = scatter.shape[-1]
    variance = jnp.trace(scatter, axis1=-2, axis2=-1) / (n_features * mass_reg)
    return variance[..., None, None] * identity


# Projections onto a type's matrices (NumPy), (..., D, D) -> (..., D, D).


def _unchanged(matrices: np.ndarray) -> np.ndarray:
    return matrices


def _diagonal_part(matrices: np.ndarray) -> np.ndarray:
    eye = np.eye(matrices.shape[-1])
    return np.diagonal(matrices, axis1=-2, axis2=-1)[..., :, None] * eye


def _mean_variance(matrices: np.ndarray) -> np.ndarray:
    n_features = matrices.shape[-1]
    variance = np.trace(matrices, axis1=-2, axis2=-1) / n_features
    return variance[..., None, None] * np.eye(n_features)


# scikit-learn's layouts (NumPy). full: (K, D, D) matrices.


def _inverse_cholesky_transposed(covariance: np.ndarray) -> np.ndarray:
    """(D, D) covariance -> scikit-learn's precision Cholesky factor, L⁻ᵀ with Σ = L Lᵀ."""
    lower = scipy.linalg.cholesky(covariance, lower=True)
    identity = np.eye(covariance.shape[0])
    return scipy.linalg.solve_triangular(lower, identity, lower=True).T


def _diagonals(full: np.ndarray) -> np.ndarray:
    """(K, D, D) -> (K, D) diagonals, scikit-learn's diag ``covariances_``."""
    return np.diagonal(full, axis1=-2, axis2=-1)


def _first_variances(full: np.ndarray) -> np.ndarray:
    """(K, D, D) -> (K,) first variances, scikit-learn's spherical ``covariances_``."""
    return _diagonals(full)[:, 0].copy()


def _diag_from_precisions(precisions: np.ndarray, k: int, n_features: int) -> np.ndarray:
    return np.stack([np.diag(1.0 / p) for p in precisions])


def _spherical_from_precisions(precisions: np.ndarray, k: int, n_features: int) -> np.ndarray:
    return (1.0 / precisions)[:, None, None] * np.eye(n_features)


def _tied_from_precisions(precisions: np.ndarray, k: int, n_features: int) -> np.ndarray:
    return np.broadcast_to(np.linalg.inv(precisions), (k, n_features, n_features)).copy()


COVARIANCE_KINDS: dict[str, CovarianceKind] = {
    "full": CovarianceKind(
        name="full",
        full_quadratic=True,
        shared=False,
        n_covariance_parameters=lambda k, d: k * d * (d + 1) // 2,
        m_step=_full_m_step,
        project=_unchanged,
        sklearn_shape=lambda k, d: (k, d, d),
        to_sklearn=_unchanged,
        precisions_cholesky=lambda full: np.stack([_inverse_cholesky_transposed(c) for c in full]),
        precisions_from_cholesky=lambda factor: np.stack([chol @ chol.T for chol in factor]),
        covariances_from_precisions=lambda precisions, k, d: np.linalg.inv(precisions),
    ),
    "tied": CovarianceKind(
        name="tied",
        full_quadratic=True,
        shared=True,
        n_covariance_parameters=lambda k, d: d * (d + 1) // 2,
        m_step=_tied_m_step,
        project=_unchanged,
        sklearn_shape=lambda k, d: (d, d),
        to_sklearn=lambda full: full[0],
        precisions_cholesky=lambda full: _inverse_cholesky_transposed(full[0]),
        precisions_from_cholesky=lambda factor: factor @ factor.T,
        covariances_from_precisions=_tied_from_precisions,
    ),
    "diag": CovarianceKind(
        name="diag",
        full_quadratic=False,
        shared=False,
        n_covariance_parameters=lambda k, d: k * d,
        m_step=_diag_m_step,
        project=_diagonal_part,
        sklearn_shape=lambda k, d: (k, d),
        to_sklearn=_diagonals,
        precisions_cholesky=lambda full: 1.0 / np.sqrt(_diagonals(full)),
        precisions_from_cholesky=lambda factor: factor**2,
        covariances_from_precisions=_diag_from_precisions,
    ),
    "spherical": CovarianceKind(
        name="spherical",
        full_quadratic=False,
        shared=False,
        n_covariance_parameters=lambda k, d: k,
        m_step=_spherical_m_step,
        project=_mean_variance,
        sklearn_shape=lambda k, d: (k,),
        to_sklearn=_first_variances,
        precisions_cholesky=lambda full: 1.0 / np.sqrt(_first_variances(full)),
        precisions_from_cholesky=lambda factor: factor**2,
        covariances_from_precisions=_spherical_from_precisions,
    ),
}

#: The covariance types, in the order the app and the docs list them.
COVARIANCE_TYPES: tuple[str, ...] = tuple(COVARIANCE_KINDS)


def covariance_kind(covariance_type: str) -> CovarianceKind:
    """The :class:`CovarianceKind` of a covariance type name.

    Raises
    ------
    ValueError
        When ``covariance_type`` is not one of :data:`COVARIANCE_TYPES`.
    """
    kind = COVARIANCE_KINDS.get(covariance_type) if isinstance(covariance_type, str) else None
    if kind is None:
        raise ValueError(
            f"covariance_type must be one of {COVARIANCE_TYPES}, got {covariance_type!r}"
        )
    return kind
