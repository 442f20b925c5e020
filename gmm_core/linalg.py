"""Cholesky factors and triangular inverses written in plain XLA operations.

Why not ``jnp.linalg.cholesky`` / ``jax.scipy.linalg.solve_triangular`` (LAPACK's
``potrf`` and ``trsm`` custom calls): with these loops the sweep runs about twice as fast
at D = 32, ties at D = 2 and is somewhat slower at D = 10, so they win overall
(``python docs/measure_linalg.py`` compares both inside the sweep). jaxlib 0.10.2 and
earlier could also deadlock on concurrent batched LAPACK calls; the pinned jaxlib does
not (``tests/core/test_upstream_lapack_deadlock.py``).

The functions here loop over the D columns with ``lax.fori_loop``; every step is
one batched matrix-vector product over all matrices at once, so they run on XLA's
own kernels.

Must not import: streamlit, plotly (``gmm_core`` is UI-free).
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array, lax

#: Up to this D the column loops are unrolled, so XLA fuses them.
UNROLL_LIMIT = 8


def _loop(n: int, body, start: Array) -> Array:
    return lax.fori_loop(0, n, body, start, unroll=n <= UNROLL_LIMIT)


def cholesky(matrices: Array) -> Array:
    """Lower Cholesky factors of symmetric matrices (NaN where one is not positive definite).

    Parameters
    ----------
    matrices : (..., D, D) symmetric

    Returns
    -------
    (..., D, D) lower-triangular ``L`` with ``L Lᵀ = matrices``.
    """
    n = matrices.shape[-1]
    rows = jnp.arange(n)

    def column(j: Array, factor: Array) -> Array:
        # Columns >= j of ``factor`` are still zero, so this sums over k < j only.
        row_j = lax.dynamic_index_in_dim(factor, j, axis=-2, keepdims=False)
        target = lax.dynamic_index_in_dim(matrices, j, axis=-1, keepdims=False)
        residual = target - jnp.einsum("...ik,...k->...i", factor, row_j)
        pivot = lax.dynamic_index_in_dim(residual, j, axis=-1, keepdims=True)
        values = jnp.where(rows >= j, residual / jnp.sqrt(pivot), 0.0)
        return lax.dynamic_update_index_in_dim(factor, values, j, axis=-1)

    return _loop(n, column, jnp.zeros_like(matrices))


def lower_triangular_inverse(factors: Array) -> Array:
    """Inverses of lower-triangular matrices by forward substitution.

    Parameters
    ----------
    factors : (..., D, D) lower-triangular with a non-zero diagonal

    Returns
    -------
    (..., D, D) lower-triangular ``L⁻¹``.
    """
    n = factors.shape[-1]
    identity = jnp.eye(n, dtype=factors.dtype)

    def row(i: Array, inverse: Array) -> Array:
        # Rows >= i of ``inverse`` are still zero, so this sums over k < i only.
        factor_row = lax.dynamic_index_in_dim(factors, i, axis=-2, keepdims=False)
        pivot = lax.dynamic_index_in_dim(factor_row, i, axis=-1, keepdims=True)
        unit = lax.dynamic_index_in_dim(identity, i, axis=0, keepdims=False)
        values = (unit - jnp.einsum("...k,...kj->...j", factor_row, inverse)) / pivot
        return lax.dynamic_update_index_in_dim(inverse, values, i, axis=-2)

    return _loop(n, row, jnp.zeros_like(factors))
