"""Synthetic Gaussian-mixture data sets: a sampler and a few named teaching presets.

Everything here is plain NumPy (float64) and deterministic for a given seed.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from gmm_core.checks import check_positive_int
from gmm_core.tolerances import SAMPLING_PSD_RTOL, SAMPLING_SYMMETRY_RTOL

__all__ = [
    "DEFAULT_PRESET",
    "PRESETS",
    "DatasetSpec",
    "allocate_counts",
    "cluster_covariance",
    "make_dataset",
]


def cluster_covariance(sigma_x: float, sigma_y: float, rotation_deg: float) -> np.ndarray:
    """Covariance of a 2-D cluster with given axis spreads, rotated counter-clockwise.

    Parameters
    ----------
    sigma_x, sigma_y
        Standard deviations along the cluster's own axes before rotation (>= 0).
    rotation_deg
        Counter-clockwise rotation of the cluster's x axis, in degrees.

    Returns
    -------
    np.ndarray, shape (2, 2)
        ``R @ diag(sigma_x**2, sigma_y**2) @ R.T`` with ``R`` the rotation matrix.
    """
    values = np.array([sigma_x, sigma_y, rotation_deg], dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"sigma_x, sigma_y and rotation_deg must be finite, got {sigma_x}, {sigma_y}, "
            f"{rotation_deg}"
        )
    if sigma_x < 0 or sigma_y < 0:
        raise ValueError(f"sigmas must be non-negative, got sigma_x={sigma_x}, sigma_y={sigma_y}")
    angle = np.deg2rad(rotation_deg)
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.array([[cos, -sin], [sin, cos]])
    covariance = rotation @ np.diag([sigma_x**2, sigma_y**2]) @ rotation.T
    return 0.5 * (covariance + covariance.T)


def allocate_counts(weights: ArrayLike, n: int) -> np.ndarray:
    """Split ``n`` points among clusters by largest-remainder (Hamilton) rounding.

    Each cluster first gets ``floor(w_k * n)`` points; the points still missing go, one each,
    to the clusters with the largest fractional parts (ties to the lower index). A cluster with
    weight 0 never gets a point. The counts are deterministic and always sum to ``n``.

    Parameters
    ----------
    weights
        Shape (K,), non-negative, not all zero; normalised internally.
    n
        Total number of points, >= 1.

    Returns
    -------
    np.ndarray, shape (K,), int64
    """
    proportions = normalised_weights(weights, expected_k=None)
    n = check_positive_int(n, "n")
    quotas = proportions * n
    counts = np.floor(quotas).astype(np.int64)
    missing = n - int(counts.sum())
    fractions = np.where(proportions > 0, quotas - counts, -1.0)
    order = np.argsort(-fractions, kind="stable")
    counts[order[:missing]] += 1
    return counts


def make_dataset(
    centers: ArrayLike,
    covariances_or_noise: ArrayLike,
    weights: ArrayLike | None = None,
    n: int = 1000,
    seed: int | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` labelled points from a Gaussian mixture.

    Points per cluster come from :func:`allocate_counts` (largest-remainder rounding of
    ``weights * n``, so exactly ``n`` in total and none for a zero weight); the points are then
    shuffled together.

    Parameters
    ----------
    centers
        Shape (K, D), cluster means.
    covariances_or_noise
        One of: a scalar sigma (isotropic, shared by all clusters); shape (K,) per-cluster
        isotropic sigmas; shape (K, D) per-axis sigmas; shape (K, D, D) covariance matrices
        (symmetric positive semi-definite). A sigma of 0 puts every point on its centre.
    weights
        Shape (K,), non-negative, not all zero, normalised internally. ``None`` means uniform.
    n
        Total number of points, >= 1.
    seed
        Seed for ``np.random.default_rng``.

    Returns
    -------
    X : np.ndarray, shape (n, D), float64
    y : np.ndarray, shape (n,), int64
        Index of the cluster each point came from.
    """
    centers_array = _finite_float_array(centers, "centers")
    if centers_array.ndim != 2 or centers_array.shape[0] < 1 or centers_array.shape[1] < 1:
        raise ValueError(
            f"centers must have shape (K, D) with K, D >= 1, got {centers_array.shape}"
        )
    n_clusters, n_features = centers_array.shape
    covariances = _covariances_from_spec(covariances_or_noise, n_clusters, n_features)
    if weights is None:
        weights = np.ones(n_clusters)
    proportions = normalised_weights(weights, expected_k=n_clusters)
    counts = allocate_counts(proportions, n)

    rng = np.random.default_rng(seed)
    points = np.empty((int(counts.sum()), n_features), dtype=np.float64)
    labels = np.repeat(np.arange(n_clusters, dtype=np.int64), counts)
    start = 0
    for cluster, count in enumerate(counts):
        if count == 0:
            continue
        factor = _psd_square_root(covariances[cluster])
        standard = rng.standard_normal((int(count), n_features))
        points[start : start + count] = centers_array[cluster] + standard @ factor.T
        start += count
    order = rng.permutation(points.shape[0])
    return points[order], labels[order]


@dataclass(frozen=True)
class DatasetSpec:
    """A named teaching data set in one or two dimensions.

    Attributes
    ----------
    name, description
        Short key and one-sentence explanation for the dashboard.
    centers
        K pairs ``(x, y)``, or K singletons ``(x,)`` for a one-dimensional data set.
    sigmas
        K triples ``(sigma_x, sigma_y, rotation_deg)`` (see :func:`cluster_covariance`),
        or K singletons ``(sigma,)`` in one dimension.
    weights
        K non-negative mixing weights (normalised when sampling).
    n
        Default number of points.
    k_range
        ``(k_min, k_max)``, the suggested range of K for a model-selection sweep.
    init_params
        The initialisation the data set is meant to be shown with, or None for any.
    """

    name: str
    description: str
    centers: tuple[tuple[float, ...], ...]
    sigmas: tuple[tuple[float, ...], ...]
    weights: tuple[float, ...]
    n: int
    k_range: tuple[int, int]
    init_params: str | None = None

    def __post_init__(self) -> None:
        n_clusters = len(self.centers)
        if n_clusters < 1:
            raise ValueError(f"{self.name}: a data set needs at least one centre")
        n_features = len(self.centers[0])
        if n_features not in (1, 2) or any(len(c) != n_features for c in self.centers):
            raise ValueError(f"{self.name}: every centre must be a pair (x, y) or a single (x,)")
        n_sigmas = 3 if n_features == 2 else 1
        if len(self.sigmas) != n_clusters or any(len(s) != n_sigmas for s in self.sigmas):
            raise ValueError(
                f"{self.name}: sigmas must hold one (sigma_x, sigma_y, rotation_deg) per "
                "centre in 2-D, one (sigma,) in 1-D"
            )
        if len(self.weights) != n_clusters:
            raise ValueError(f"{self.name}: weights must hold one value per centre")
        normalised_weights(self.weights, expected_k=n_clusters)
        check_positive_int(self.n, "n")
        k_min, k_max = self.k_range
        if not 1 <= k_min <= k_max:
            raise ValueError(f"{self.name}: k_range must satisfy 1 <= k_min <= k_max")
        self.covariances  # noqa: B018 - validates every sigma

    @property
    def n_features(self) -> int:
        """1 or 2."""
        return len(self.centers[0])

    @property
    def covariances(self) -> np.ndarray:
        """Cluster covariances, shape (K, D, D)."""
        if self.n_features == 1:
            return np.stack(
                [cluster_covariance(sigma, 0.0, 0.0)[:1, :1] for (sigma,) in self.sigmas]
            )
        return np.stack([cluster_covariance(*triple) for triple in self.sigmas])

    @property
    def means(self) -> np.ndarray:
        """Cluster centres, shape (K, D)."""
        return np.asarray(self.centers, dtype=np.float64)

    @property
    def true_k(self) -> int:
        """Number of clusters with a positive weight."""
        return int(np.count_nonzero(np.asarray(self.weights) > 0))

    def sample(
        self, n: int | None = None, seed: int | None = 0, noise: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``(X, y)`` with shapes (n, D) and (n,); ``noise`` multiplies every sigma."""
        noise_value = float(noise)
        if not np.isfinite(noise_value) or noise_value < 0:
            raise ValueError(f"noise must be a finite non-negative number, got {noise}")
        return make_dataset(
            self.means,
            self.covariances * noise_value**2,
            self.weights,
            self.n if n is None else n,
            seed,
        )


def _finite_float_array(value: ArrayLike, name: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be numeric: {error}") from error
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains non-finite values (NaN or inf)")
    return array


def normalised_weights(weights: ArrayLike, expected_k: int | None) -> np.ndarray:
    """(K,) ``weights`` divided by their sum; ValueError unless finite, non-negative, not
    all zero and (with ``expected_k``) K long."""
    array = _finite_float_array(weights, "weights")
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"weights must have shape (K,) with K >= 1, got {array.shape}")
    if expected_k is not None and array.shape[0] != expected_k:
        raise ValueError(f"weights must have shape ({expected_k},), got {array.shape}")
    if np.any(array < 0):
        raise ValueError("weights must be non-negative")
    total = array.sum()
    if total <= 0:
        raise ValueError("weights must not all be zero")
    return array / total


def _covariances_from_spec(spec: ArrayLike, n_clusters: int, n_features: int) -> np.ndarray:
    array = _finite_float_array(spec, "covariances_or_noise")
    if array.ndim <= 2:
        # A scalar sigma, (K,) per-cluster sigmas or (K, D) per-axis sigmas.
        expected = ((), (n_clusters,), (n_clusters, n_features))[array.ndim]
        if array.shape != expected:
            raise ValueError(f"sigmas must have shape {expected}, got {array.shape}")
        sigmas = np.broadcast_to(
            array.reshape(expected + (1,) * (2 - array.ndim)), (n_clusters, n_features)
        )
        if np.any(sigmas < 0):
            raise ValueError("sigmas must be non-negative")
        covariances = np.zeros((n_clusters, n_features, n_features))
        diagonal = np.arange(n_features)
        covariances[:, diagonal, diagonal] = sigmas**2
        return covariances
    if array.shape != (n_clusters, n_features, n_features):
        raise ValueError(
            f"covariances must have shape ({n_clusters}, {n_features}, {n_features}), "
            f"got {array.shape}"
        )
    for cluster, covariance in enumerate(array):
        scale = float(np.max(np.abs(covariance)))
        if not np.allclose(covariance, covariance.T, rtol=0.0, atol=SAMPLING_SYMMETRY_RTOL * scale):
            raise ValueError(f"covariance of cluster {cluster} is not symmetric")
        smallest = float(np.linalg.eigvalsh(covariance)[0])
        if smallest < -SAMPLING_PSD_RTOL * max(scale, np.finfo(np.float64).tiny):
            raise ValueError(
                f"covariance of cluster {cluster} is not positive semi-definite "
                f"(smallest eigenvalue {smallest:.3g})"
            )
    return array


def _psd_square_root(covariance: np.ndarray) -> np.ndarray:
    """Factor ``F`` with ``F @ F.T == covariance`` for a symmetric PSD (D, D) matrix.

    The Cholesky factor when it exists (unique, so scaling the covariance by ``c**2`` scales
    the samples by exactly ``c``); otherwise an eigen-decomposition with clamped eigenvalues.
    """
    symmetric = 0.5 * (covariance + covariance.T)
    try:
        return np.linalg.cholesky(symmetric)
    except np.linalg.LinAlgError:
        eigenvalues, eigenvectors = np.linalg.eigh(symmetric)
        return eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))


PRESETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            name="four_blobs",
            description="Four well-separated round clusters of equal size: EM's easy case.",
            centers=((-4.0, -4.0), (4.0, 4.0), (-4.0, 4.0), (4.0, -4.0)),
            sigmas=((1.0, 1.0, 0.0),) * 4,
            weights=(0.25, 0.25, 0.25, 0.25),
            n=2000,
            k_range=(1, 6),
            init_params="k-means++",
        ),
        DatasetSpec(
            name="overlapping",
            description="Three round clusters that overlap heavily; their boundaries blur.",
            centers=((0.0, 0.0), (2.0, 0.5), (0.8, 2.0)),
            sigmas=((1.0, 1.0, 0.0), (1.0, 1.0, 0.0), (1.0, 1.0, 0.0)),
            weights=(1 / 3, 1 / 3, 1 / 3),
            n=1500,
            k_range=(1, 6),
            init_params="k-means++",
        ),
        DatasetSpec(
            name="elongated",
            description="Three long, rotated clusters: full covariances beat round ones here.",
            centers=((-5.0, 0.0), (4.0, 4.0), (3.0, -5.0)),
            sigmas=((3.0, 0.6, 30.0), (3.0, 0.5, -45.0), (2.5, 0.5, 80.0)),
            weights=(1 / 3, 1 / 3, 1 / 3),
            n=1500,
            k_range=(1, 6),
            init_params="k-means++",
        ),
        DatasetSpec(
            name="unequal_weights",
            description="One big cluster and two small ones (70 % / 20 % / 10 % of the points).",
            centers=((-3.0, 0.0), (3.5, 2.5), (2.5, -4.0)),
            sigmas=((1.2, 1.2, 0.0), (0.9, 0.9, 0.0), (0.8, 0.8, 0.0)),
            weights=(0.7, 0.2, 0.1),
            n=1500,
            k_range=(1, 6),
        ),
        DatasetSpec(
            name="k_mismatch",
            description="Six clusters on a ring while the sweep only tries K = 1 to 4.",
            centers=tuple(
                (
                    round(6.0 * float(np.cos(angle)), 6),
                    round(6.0 * float(np.sin(angle)), 6),
                )
                for angle in np.linspace(0.0, 2.0 * np.pi, 6, endpoint=False)
            ),
            sigmas=((0.8, 0.8, 0.0),) * 6,
            weights=(1 / 6,) * 6,
            n=1800,
            k_range=(1, 4),
            init_params="k-means++",
        ),
        DatasetSpec(
            name="singularity",
            description="A broad cluster with a clump of near-identical points (10 %) inside "
            "it: lower reg_covar and one component collapses onto the clump.",
            centers=((0.0, 0.0), (3.0, 0.0)),
            sigmas=((3.0, 2.0, 20.0), (0.001, 0.001, 0.0)),
            weights=(0.9, 0.1),
            n=1500,
            k_range=(1, 3),
            init_params="k-means++",
        ),
        DatasetSpec(
            name="bimodal_1d",
            description="One dimension, two bumps (60 % / 40 %): the textbook histogram.",
            centers=((-2.0,), (2.5,)),
            sigmas=((1.0,), (0.8,)),
            weights=(0.6, 0.4),
            n=1000,
            k_range=(1, 5),
            init_params="k-means++",
        ),
        DatasetSpec(
            name="skewed_1d",
            description="One dimension, a right-skewed density made of three overlapping "
            "components.",
            centers=((0.0,), (1.5,), (4.0,)),
            sigmas=((0.8,), (1.2,), (2.0,)),
            weights=(0.5, 0.3, 0.2),
            n=1500,
            k_range=(1, 5),
            init_params="k-means++",
        ),
    )
}

DEFAULT_PRESET = "four_blobs"
