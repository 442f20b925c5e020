"""User-given starting parameters of a sweep, in the program's internal units.

scikit-learn's ``weights_init``, ``means_init`` and ``precisions_init`` and the app's
"placed means" start (``means_init_only``: equal weights and one shared covariance)
become a :class:`UserStart`: arrays padded to ``k_pad`` components and centred and
scaled as the points are (:mod:`gmm_core.points`). The compiled program takes them
as run-time inputs, so moving the means reuses it.

NumPy on the host only; like all of ``gmm_core`` it must not import streamlit or plotly.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from gmm_core.covariance_types import covariance_kind
from gmm_core.mixture import MASKED_LOG_WEIGHT
from gmm_core.points import PreparedData
from gmm_core.tolerances import POSITIVE_FLOOR


class UserStart(NamedTuple):
    """Starting parameters the user gave, internal units, padded; None: drawn by the init.

    Attributes
    ----------
    log_weights : (component,) or None; padded components hold ``MASKED_LOG_WEIGHT``
    means : (component, feature) or None
    covariances : (component, feature, feature) or None
    """

    log_weights: np.ndarray | None = None
    means: np.ndarray | None = None
    covariances: np.ndarray | None = None

    @property
    def given(self) -> tuple[bool, bool, bool]:
        """Which of (weights, means, covariances) the user gave."""
        return (self.log_weights is not None, self.means is not None, self.covariances is not None)


def user_start(
    k: int,
    k_pad: int,
    prepared: PreparedData,
    covariance_type: str,
    reg_covar: float,
    weights_init: object = None,
    means_init: object = None,
    precisions_init: object = None,
    means_init_only: bool = False,
) -> UserStart:
    """The start a sweep's ``*_init`` arguments (original units) ask for.

    Parameters
    ----------
    k : the one K of the sweep; k_pad : components after padding
    reg_covar : original units; added to the shared covariance of ``means_init_only``
    weights_init : (k,) or None; means_init : (k, feature) or None
    precisions_init : scikit-learn's shape for ``covariance_type``, or None
    means_init_only : equal weights and :func:`shared_start_covariance` besides the means
    """
    n_features = prepared.data_covariance.shape[0]
    eye = np.eye(n_features)
    start = UserStart()
    if weights_init is not None:
        weights = np.asarray(weights_init, np.float64)
        log_weights = np.log(np.maximum(weights / weights.sum(), POSITIVE_FLOOR))
        start = start._replace(log_weights=_padded(log_weights, k_pad, MASKED_LOG_WEIGHT))
    if means_init is not None:
        means = (np.asarray(means_init, np.float64) - prepared.shift) / prepared.scale
        start = start._replace(means=_padded(means, k_pad, 0.0))
    if precisions_init is not None:
        covariances = precisions_to_covariances(precisions_init, covariance_type, k, n_features)
        start = start._replace(covariances=_padded(covariances, k_pad, eye) / prepared.scale**2)
    if means_init_only:  # equal weights and the shared start covariance
        shared = shared_start_covariance(prepared.data_covariance, k, covariance_type)
        shared = np.broadcast_to(shared + reg_covar / prepared.scale**2 * eye, (k, *eye.shape))
        start = start._replace(
            log_weights=_padded(np.full(k, -math.log(k)), k_pad, MASKED_LOG_WEIGHT),
            covariances=_padded(shared, k_pad, eye),
        )
    return start


def _padded(values: np.ndarray, k_pad: int, fill: float | np.ndarray) -> np.ndarray:
    """(k, ...) ``values`` padded to (k_pad, ...) with ``fill`` (one entry's value)."""
    padded = np.broadcast_to(fill, (k_pad, *np.shape(values)[1:])).astype(np.float64)
    padded[: len(values)] = values
    return padded


def shared_start_covariance(
    data_covariance: np.ndarray, k: int, covariance_type: str
) -> np.ndarray:
    """The covariance every component starts from with ``means_init_only``: a circle.

    The data's mean variance times I, whatever K and ``covariance_type`` (a circle is a
    valid parameter of each): the start of Bishop's Figure 9.8, where every component
    begins as a circle as wide as the data, so only the placed means tell them apart.
    ``k`` is kept so callers need not know which start this is.
    """
    data_covariance = np.asarray(data_covariance, np.float64)
    n_features = data_covariance.shape[0]
    return np.trace(data_covariance) / n_features * np.eye(n_features)


def precisions_to_covariances(
    precisions: np.ndarray, covariance_type: str, k: int, n_features: int
) -> np.ndarray:
    """scikit-learn-shaped precisions -> (k, D, D) covariance matrices."""
    precisions = np.asarray(precisions, np.float64)
    kind = covariance_kind(covariance_type)
    expected = kind.sklearn_shape(k, n_features)
    if precisions.shape != expected:
        raise ValueError(
            f"precisions_init for covariance_type={covariance_type!r} must have shape "
            f"{expected}; got {precisions.shape}."
        )
    return kind.covariances_from_precisions(precisions, k, n_features)
