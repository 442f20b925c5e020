"""The data a sweep runs on: a preset's data set and its truth, or an uploaded table.

A preset is synthetic (drawn from its cluster table, with true labels) or a shipped real
data set (read from ``gmm_core/data_files``, no true labels).

Synthetic data is cached with ``st.cache_data`` on a :class:`~gmm_app.app_settings.DataKey`;
a parsed upload with ``st.cache_resource`` on its digest. Must not import the fit flow, the
widgets or the views.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import streamlit as st

from gmm_app.app_settings import DataKey, Settings
from gmm_app.cluster_table import ClusterTable
from gmm_app.upload import ParsedUpload, parse_csv
from gmm_core import SHIPPED, load_shipped
from gmm_core.data import cluster_covariance, make_dataset
from gmm_core.mixture import Mixture

# --------------------------------------------------------------------------- data

LOOK_FOR = {
    "four_blobs": "every init finds the four blobs in a few iterations; EM's easy case.",
    "overlapping": "the fitted ellipses settle between the true ones; ARI stays well below 1.",
    "elongated": "full covariances tilt with the clusters; try cov=spherical to see them fail.",
    "unequal_weights": "the small clusters are found late, and some restarts never find them.",
    "k_mismatch": "with K ≤ 4 each component must cover more than one of the six clusters.",
    "old_faithful": (
        "short and long eruptions form two clusters; with K = 2 the Panels tab replays the "
        "textbook figure (Bishop, PRML Fig. 9.8). Random responsibilities start every mean at "
        "the centre: place the means by hand, or try init=standard_normal."
    ),
    "singularity": "lower reg_covar step by step: one ellipse shrinks onto the clump, its "
    "smallest eigenvalue follows reg_covar and the log-likelihood climbs; at 0 the fit fails.",
    "bimodal_1d": "the two weighted component densities add up to the mixture; K = 2 is "
    "BIC's choice.",
    "skewed_1d": "a skewed density needs several Gaussians; BIC weighs the better fit "
    "against the extra parameters and may settle for fewer than the true three.",
}
"""One line per preset: what its data shows about EM."""


@dataclass(frozen=True)
class Truth:
    """The true mixture of a cluster table (clusters with a positive weight only).

    Attributes
    ----------
    means : (Kt, D); covariances : (Kt, D, D); weights : (Kt,) normalised
    label_map : (K_table,) int, table row -> index among the kept clusters (-1 if dropped)
    """

    means: np.ndarray
    covariances: np.ndarray
    weights: np.ndarray
    label_map: np.ndarray

    @property
    def mixture(self) -> Mixture:
        """The true mixture's weights, means and covariances as one record."""
        return Mixture(self.weights, self.means, self.covariances)


def cluster_covariances(rows: np.ndarray, noise: float, n_features: int) -> np.ndarray:
    """(K, D, D) covariances of table rows with every σ scaled by ``noise``.

    In one dimension only σx is used: ``[[ (σx·noise)² ]]``.
    """
    if n_features == 1:
        return (rows[:, 2] * noise)[:, None, None] ** 2
    return np.stack([cluster_covariance(sx, sy, rot) * noise**2 for _, _, sx, sy, rot, _ in rows])


def truth(clusters: ClusterTable, noise: float, n_features: int = 2) -> Truth:
    """The generating mixture of a valid cluster table with every σ scaled by ``noise``."""
    rows = np.asarray(clusters, dtype=np.float64).reshape(-1, 6)
    keep = rows[:, 5] > 0
    kept = rows[keep]
    label_map = np.full(rows.shape[0], -1, dtype=np.int64)
    label_map[keep] = np.arange(int(keep.sum()))
    return Truth(
        kept[:, :n_features].copy(),
        cluster_covariances(kept, noise, n_features),
        kept[:, 5] / kept[:, 5].sum(),
        label_map,
    )


def truth_from_labels(points: np.ndarray, codes: np.ndarray) -> Truth:
    """The mixture of labelled groups: each group's share, mean and covariance (÷ its size).

    Parameters
    ----------
    points : (N, D); codes : (N,) group of every point, ``0..G-1``
    """
    groups = np.unique(codes)
    n_features = points.shape[1]
    means = np.stack([points[codes == g].mean(axis=0) for g in groups])
    covariances = np.stack(
        [
            np.atleast_2d(np.cov(points[codes == g], rowvar=False, bias=True)).reshape(
                n_features, n_features
            )
            for g in groups
        ]
    )
    weights = np.array([np.mean(codes == g) for g in groups])
    return Truth(means, covariances, weights, np.arange(groups.size))


def settings_truth(key: DataKey) -> Truth:
    """:func:`truth` of a data key."""
    return truth(key.clusters, key.noise, key.n_features)


def page_truth(settings: Settings) -> Truth | None:
    """The generating mixture of a synthetic preset; None for real data (no true labels)."""
    return None if settings.shipped else settings_truth(settings.data_key)


def source_note(settings: Settings) -> str | None:
    """``"Data: <source>"`` for a real data set (a note on figures); None for synthetic data."""
    return f"Data: {SHIPPED[settings.preset].source}" if settings.shipped else None


def source_caption(settings: Settings) -> str | None:
    """Where a real data set comes from and that it has no truth; None for synthetic data."""
    if not settings.shipped:
        return None
    return (
        f"**Data:** {SHIPPED[settings.preset].source}, as in Bishop's PRML Figure 9.8. Real "
        "data: no true labels, so no ARI and no true ellipses."
    )


@st.cache_data(max_entries=32, show_spinner=False)
def synthetic_data(key: DataKey) -> tuple[np.ndarray, np.ndarray | None]:
    """The preset's data set: points (N, D) and true labels (N,) indexing :func:`truth`'s
    clusters, or None for a shipped real data set."""
    return draw_synthetic(key)


def draw_synthetic(key: DataKey) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`synthetic_data` without the cache, for use outside a page run."""
    if key.shipped:
        return load_shipped(key.shipped), None
    rows = np.asarray(key.clusters, dtype=np.float64).reshape(-1, 6)
    covariances = cluster_covariances(rows, key.noise, key.n_features)
    points, labels = make_dataset(
        rows[:, : key.n_features], covariances, rows[:, 5], key.n_points, key.seed
    )
    return points, settings_truth(key).label_map[labels]


def upload_digest(raw: bytes) -> str:
    """The name of an upload in cache keys: a digest, so that a cache of 16 sweep results
    does not also hold 16 uploads of up to 20 MB."""
    return hashlib.sha256(raw).hexdigest()


@st.cache_resource(max_entries=4, show_spinner=False, hash_funcs={bytes: upload_digest})
def parse_upload(raw: bytes) -> ParsedUpload:
    """Parse uploaded CSV bytes once per file (raises :class:`gmm_app.upload.UploadError`).

    Keyed on the digest and kept as one shared object: ``st.cache_data`` would pickle and
    copy the table on every call."""
    return parse_csv(raw)


def upload_matrix(raw: bytes, columns: tuple[str, ...]) -> np.ndarray:
    """(N, D) float64: the chosen numeric columns of an upload, the rows usable in all of them."""
    return parse_upload(raw).matrix(columns)
