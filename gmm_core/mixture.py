"""A Gaussian mixture in its two forms: the record passed around, and the compiled EM's state.

:class:`Mixture` is one mixture as NumPy arrays in original units: what
:meth:`gmm_core.SweepResult.mixture` returns (public name ``gmm_core.FittedMixture``), what
the app's chosen fit holds and what the figures draw: a fit, a fit projected onto the
plotted plane, or the true mixture. The compiled EM keeps its
own state, :class:`MixtureParams`: a JAX pytree of log-weights, means and full
covariances in internal units, padded and batched over fits.

Axis names used in shapes throughout ``gmm_core``:

- ``fit``: one (K, restart) pair of a sweep
- ``component``: a mixture component, padded to ``k_pad`` and masked
- ``point``: a data point; ``feature``: a data dimension (D)
- ``basis``: a polynomial feature of a point (P), see :mod:`gmm_core.basis`

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
from jax import Array


@dataclasses.dataclass(frozen=True, eq=False)
class Mixture:
    """Weights, means and covariances of one Gaussian mixture in original units.

    The compiled EM's state is :class:`MixtureParams` (log-weights, internal units).

    Attributes
    ----------
    weights : (..., K); means : (..., K, D); covariances : (..., K, D, D)
        float64 (arrays that already are float64 are kept, not copied); values are not
        checked, so a failed fit's non-finite parameters pass through. One mixture has
        no leading axes; a sweep's grids of mixtures (``SweepResult.final``, ...) have
        (K value, restart[, snapshot]) axes in front.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def __post_init__(self) -> None:
        for name in ("weights", "means", "covariances"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=np.float64))
        batch = self.weights.shape
        n_features = self.means.shape[-1] if self.means.ndim == len(batch) + 1 else -1
        if (
            not batch
            or self.means.shape != (*batch, n_features)
            or self.covariances.shape != (*batch, n_features, n_features)
        ):
            raise ValueError(
                "a mixture needs weights (K,), means (K, D) and covariances (K, D, D), got "
                f"{self.weights.shape}, {self.means.shape} and {self.covariances.shape}"
            )

    @property
    def n_components(self) -> int:
        """K, the number of components."""
        return int(self.weights.shape[-1])

    @property
    def n_features(self) -> int:
        """D, the dimension of the means."""
        return int(self.means.shape[-1])

    def __getitem__(self, index: object) -> Mixture:
        """The mixtures at ``index`` of the leading axes, e.g. ``final[row, restart, :k]``
        (the last index picks components)."""
        return Mixture(self.weights[index], self.means[index], self.covariances[index])

    def as_dict(self) -> dict[str, np.ndarray]:
        """``{"weights": …, "means": …, "covariances": …}``: the arrays themselves."""
        return {"weights": self.weights, "means": self.means, "covariances": self.covariances}


#: Log-weight given to padded (inactive) components: finite, so ``0 * it`` stays 0.
MASKED_LOG_WEIGHT = -1e30


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class MixtureParams:
    """Parameters of one mixture (or a batch of them, with leading ``fit`` axes).

    The compiled EM's state; one fit in original units is a :class:`~gmm_core.mixture.Mixture`.

    Attributes
    ----------
    log_weights : (..., component)
        Log mixing weights; padded components hold ``MASKED_LOG_WEIGHT``.
    means : (..., component, feature)
    covariances : (..., component, feature, feature)
        Always full matrices. Diagonal and spherical models store diagonal
        matrices; the tied model repeats one matrix for every component.
    """

    log_weights: Array
    means: Array
    covariances: Array
