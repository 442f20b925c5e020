"""Up-front estimates of a sweep's run time and memory, to stop oversized requests early.

The time model counts (point, fit, component, iteration) quadruples and charges each
one a cost that grows with the number of polynomial features P of a point; its two
constants were fitted to ``python -m gmm_core.bench`` on a 2-core CPU and err on the
slow side. The memory model adds the host copies of the data, the padded device
copy, one chunk's working arrays and the recorded traces and snapshots.

:func:`verdict` turns an estimate into what a caller should do: run it, ask the user
to confirm it first (above :data:`CONFIRM_ABOVE_SECONDS`), or refuse it (above
:data:`REFUSE_ABOVE_SECONDS` or :data:`MAX_MEMORY_FRACTION` of the available memory).

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, NamedTuple

from gmm_core.basis import n_basis
from gmm_core.buckets import (
    MAX_SNAPSHOTS,
    available_memory_bytes,
    bucket_components,
    bucket_iterations,
    bucket_points,
    default_chunk_size,
)
from gmm_core.fit_settings import FitSettings

#: Seconds per (point, fit, component, iteration) quadruple: a fixed part and a part per feature.
SECONDS_PER_QUADRUPLE = 1.6e-9
SECONDS_PER_QUADRUPLE_AND_BASIS = 0.12e-9
#: Sweeps estimated above this many seconds should be confirmed by the user first.
CONFIRM_ABOVE_SECONDS = 20.0
#: Sweeps estimated above this many seconds are refused: the user must lower a setting.
REFUSE_ABOVE_SECONDS = 600.0
#: Sweeps estimated to need more than this share of the available memory are refused.
MAX_MEMORY_FRACTION = 0.25

Verdict = Literal["run", "confirm", "refuse"]


class WorkEstimate(NamedTuple):
    """Estimated cost of one sweep."""

    seconds: float
    peak_bytes: int
    quadruples: float

    @property
    def needs_confirmation(self) -> bool:
        return self.seconds > CONFIRM_ABOVE_SECONDS


def total(estimates: Iterable[WorkEstimate]) -> WorkEstimate:
    """The cost of several sweeps run one after the other (memory adds up: results are kept)."""
    parts = list(estimates)
    return WorkEstimate(
        sum(part.seconds for part in parts),
        sum(part.peak_bytes for part in parts),
        sum(part.quadruples for part in parts),
    )


def memory_limit_bytes(available_bytes: int | None = None) -> int:
    """The most memory a sweep may be estimated to need: a share of what is available."""
    if available_bytes is None:
        available_bytes = available_memory_bytes()
    return int(MAX_MEMORY_FRACTION * available_bytes)


def verdict(estimate: WorkEstimate, available_bytes: int | None = None) -> Verdict:
    """``"refuse"`` above a hard limit, ``"confirm"`` above the confirmation threshold, else
    ``"run"``."""
    if estimate.seconds > REFUSE_ABOVE_SECONDS or estimate.peak_bytes > memory_limit_bytes(
        available_bytes
    ):
        return "refuse"
    return "confirm" if estimate.needs_confirmation else "run"


def estimate_sweep(n_samples: int, n_features: int, settings: FitSettings) -> WorkEstimate:
    """Estimate the wall time (all iterations run) and peak memory on one CPU device of a
    sweep with ``settings`` on (n_samples, n_features) points."""
    k_min, k_max, n_restarts = settings.k_min, settings.k_max, settings.n_restarts
    max_iter, snapshots = settings.max_iter, settings.snapshots
    n_points = bucket_points(n_samples)
    k_pad = bucket_components(k_max)
    n_fits = bucket_components(k_max - k_min + 1) * n_restarts
    basis = n_basis(n_features, settings.covariance_type)
    quadruples = float(n_points) * n_fits * k_pad * (max_iter + 2)
    seconds = quadruples * (SECONDS_PER_QUADRUPLE + SECONDS_PER_QUADRUPLE_AND_BASIS * basis)
    chunk = default_chunk_size(n_points)
    host = 4 * n_samples * n_features * 8
    device = n_points * n_features * 4 + 6 * chunk * n_fits * k_pad * 4
    recorded = bucket_iterations(max_iter) * n_fits * 8
    recorded += min(snapshots, MAX_SNAPSHOTS) * n_fits * k_pad * (n_features + 1) ** 2 * 8
    return WorkEstimate(seconds, int(host + device + 2 * recorded), quadruples)
