"""The true-cluster table: its columns and limits, presets, and its URL codec.

Rows are ``(x, y, σx, σy, rotation in degrees, weight)``; the ``clusters`` query
parameter holds them as ``x,y,sx,sy,rot,w;...``.

Pure: no Streamlit. Imports only :mod:`gmm_app.param_types` (number text) from ``gmm_app``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from gmm_app.param_types import format_number, parse_float
from gmm_core import PRESETS

Cluster = tuple[float, float, float, float, float, float]
ClusterTable = tuple[Cluster, ...]

MAX_CLUSTERS = 12
MAX_COORDINATE = 1000.0
MAX_SIGMA = 100.0
MAX_ROTATION = 360.0
MAX_WEIGHT = 1000.0

MAX_CLUSTERS_CHARS = 2000

CLUSTER_COLUMNS = ("x", "y", "sigma_x", "sigma_y", "rotation", "weight")
CLUSTER_LABELS = ("centre x", "centre y", "spread σx", "spread σy", "rotation (°)", "weight")
COLUMNS_1D = ("x", "sigma_x", "weight")
"""The columns a one-dimensional data set uses; the others are 0 and hidden."""
CLUSTER_LIMITS = (
    (-MAX_COORDINATE, MAX_COORDINATE),
    (-MAX_COORDINATE, MAX_COORDINATE),
    (0.0, MAX_SIGMA),
    (0.0, MAX_SIGMA),
    (-MAX_ROTATION, MAX_ROTATION),
    (0.0, MAX_WEIGHT),
)


def preset_clusters(name: str) -> ClusterTable:
    """The cluster table of a gmm_core preset: rows ``(x, y, σx, σy, rotation, weight)``.

    A one-dimensional preset's rows are ``(x, 0, σ, 0, 0, weight)``: the same table, the
    y, σy and rotation columns unused (see :data:`COLUMNS_1D`).
    """
    spec = PRESETS[name]
    if spec.n_features == 1:
        return tuple(
            (float(cx), 0.0, float(sigma), 0.0, 0.0, float(w))
            for (cx,), (sigma,), w in zip(spec.centers, spec.sigmas, spec.weights, strict=True)
        )
    return tuple(
        (float(cx), float(cy), float(sx), float(sy), float(rot), float(w))
        for (cx, cy), (sx, sy, rot), w in zip(spec.centers, spec.sigmas, spec.weights, strict=True)
    )


# --------------------------------------------------------------------------- cluster table


def encode_clusters(table: ClusterTable) -> str:
    """``x,y,sx,sy,rot,w;...`` with numbers that read back exactly."""
    return ";".join(",".join(format_number(v) for v in row) for row in table)


def validate_cluster_rows(rows: Sequence[Sequence[object]]) -> tuple[ClusterTable, list[str]]:
    """Check a cluster table and say what to change.

    Parameters
    ----------
    rows
        Rows of six numbers ``(x, y, σx, σy, rotation, weight)``; may hold None or NaN.

    Returns
    -------
    table, problems
        The table as floats when ``problems`` is empty; otherwise ``()`` and one
        sentence per problem, each naming the row and column to fix.
    """
    problems: list[str] = []
    if len(rows) == 0:
        return (), ["The cluster table is empty: add at least one row or pick a preset."]
    if len(rows) > MAX_CLUSTERS:
        return (), [
            f"The cluster table has {len(rows)} rows; delete rows to keep at most {MAX_CLUSTERS}."
        ]
    table: list[Cluster] = []
    for index, row in enumerate(rows, start=1):
        if len(row) != len(CLUSTER_COLUMNS):
            problems.append(f"Row {index} needs {len(CLUSTER_COLUMNS)} numbers.")
            continue
        values: list[float] = []
        for value, name, (low, high) in zip(row, CLUSTER_LABELS, CLUSTER_LIMITS, strict=True):
            try:
                number = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                number = math.nan
            if isinstance(value, bool) or not math.isfinite(number):
                problems.append(f"Row {index}: '{name}' is empty or not a number; fill it in.")
            elif number < low and low == 0.0:
                problems.append(f"Row {index}: '{name}' is negative; make it 0 or more.")
            elif not low <= number <= high:
                problems.append(
                    f"Row {index}: '{name}' = {number:g} is outside {low:g} to {high:g}."
                )
            values.append(number)
        table.append(tuple(values))  # type: ignore[arg-type]
    if not problems and not any(row[5] > 0 for row in table):
        problems.append("Every weight is 0: give at least one cluster a positive weight.")
    return ((), problems) if problems else (tuple(table), [])


def decode_clusters(text: str) -> ClusterTable:
    """Read a ``clusters`` query parameter.

    Raises
    ------
    ValueError
        With a short reason when the text is not a valid table.
    """
    if len(text) > MAX_CLUSTERS_CHARS:
        raise ValueError("too long")
    rows: list[list[float]] = []
    for part in text.split(";"):
        cells = part.split(",")
        if len(cells) != len(CLUSTER_COLUMNS):
            raise ValueError(f"each cluster needs {len(CLUSTER_COLUMNS)} numbers")
        numbers = [parse_float(cell) for cell in cells]
        if any(number is None for number in numbers):
            raise ValueError("not numbers")
        rows.append([float(n) for n in numbers if n is not None])
    table, problems = validate_cluster_rows(rows)
    if problems:
        raise ValueError("invalid values")
    return table


def clusters_frame(table: ClusterTable) -> pd.DataFrame:
    """The cluster table as the data editor's DataFrame."""
    return pd.DataFrame(list(table), columns=list(CLUSTER_COLUMNS), dtype="float64")


def preset_features(name: str) -> int:
    """How many features a preset's data has (1 or 2)."""
    return PRESETS[name].n_features


def frame_rows(frame: pd.DataFrame, n_features: int = 2) -> list[list[object]]:
    """Rows of an edited cluster table, in :data:`CLUSTER_COLUMNS` order.

    In one dimension the unused columns read 0 (the editor hides them, so new rows
    leave them empty).
    """
    if n_features == 1:
        frame = frame.assign(**{name: 0.0 for name in CLUSTER_COLUMNS if name not in COLUMNS_1D})
    return frame.reindex(columns=list(CLUSTER_COLUMNS)).astype(object).to_numpy().tolist()
