"""One Gaussian mixture as NumPy arrays in original units, passed between core, figures and app.

:class:`Mixture` is what :meth:`gmm_core.SweepResult.mixture` returns (public name
``gmm_core.FittedMixture``), what the app's chosen fit holds and what the figures draw: a
fit, a fit projected onto the plotted plane, or the true mixture. The compiled EM keeps its
own state, :class:`gmm_core.model.MixtureParams` (log-weights, internal units, padded and
batched).

NumPy only. Must not import streamlit, plotly, gmm_figures or gmm_app.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class Mixture:
    """Weights, means and covariances of one Gaussian mixture in original units.

    The compiled EM's state is :class:`~gmm_core.model.MixtureParams` (log-weights, internal units).

    Attributes
    ----------
    weights : (K,); means : (K, D); covariances : (K, D, D)
        float64 (arrays that already are float64 are kept, not copied); values are not
        checked, so a failed fit's non-finite parameters pass through.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def __post_init__(self) -> None:
        for name in ("weights", "means", "covariances"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=np.float64))
        n_components = self.weights.shape[0] if self.weights.ndim == 1 else -1
        n_features = self.means.shape[-1] if self.means.ndim == 2 else -1
        if (
            n_components < 0
            or self.means.shape != (n_components, n_features)
            or self.covariances.shape != (n_components, n_features, n_features)
        ):
            raise ValueError(
                "a mixture needs weights (K,), means (K, D) and covariances (K, D, D), got "
                f"{self.weights.shape}, {self.means.shape} and {self.covariances.shape}"
            )

    @property
    def n_components(self) -> int:
        """K, the number of components."""
        return int(self.weights.shape[0])

    @property
    def n_features(self) -> int:
        """D, the dimension of the means."""
        return int(self.means.shape[1])

    def as_dict(self) -> dict[str, np.ndarray]:
        """``{"weights": …, "means": …, "covariances": …}``: the arrays themselves."""
        return {"weights": self.weights, "means": self.means, "covariances": self.covariances}
