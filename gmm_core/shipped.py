"""Real data sets shipped with GMM Explorer as small CSV files (no true labels).

``old_faithful``: the 272 eruptions of the Old Faithful geyser (Yellowstone) in R's
``datasets::faithful``: eruption time and waiting time to the next eruption, both in
minutes (Azzalini, A. and Bowman, A. W. (1990), *A look at some data on the Old Faithful
geyser*, Applied Statistics 39, 357–365; Härdle, W. (1991), *Smoothing Techniques with
Implementation in S*, Springer). It is the data of Bishop's *Pattern Recognition and
Machine Learning*, Figure 9.8, and of Murphy's EM figures, standardised as they are.

Plain NumPy; the files live in ``gmm_core/data_files/``.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

__all__ = ["SHIPPED", "ShippedDataset", "load_shipped", "standardise"]


@dataclass(frozen=True)
class ShippedDataset:
    """A real 2-D data set read from a CSV file in ``gmm_core/data_files/``.

    Attributes
    ----------
    name, description : short key and one sentence for the dashboard
    source : where the data come from (shown beside the plots)
    file : the CSV file's name (a header row, then one row per point)
    columns : the two columns' names and units, after standardising
    k_range : the suggested K range of a sweep
    """

    name: str
    description: str
    source: str
    file: str
    columns: tuple[str, str]
    k_range: tuple[int, int]


SHIPPED: dict[str, ShippedDataset] = {
    "old_faithful": ShippedDataset(
        name="old_faithful",
        description=(
            "The 272 eruptions of the Old Faithful geyser: eruption time against waiting "
            "time, standardised (a real data set with no true labels)."
        ),
        source=(
            "Old Faithful geyser, Yellowstone: R's datasets::faithful (Azzalini & Bowman "
            "1990; Härdle 1991)"
        ),
        file="old_faithful.csv",
        columns=("eruption time (standardised)", "waiting time (standardised)"),
        k_range=(1, 6),
    )
}


def standardise(X: np.ndarray) -> np.ndarray:
    """Every column shifted to mean 0 and scaled to standard deviation 1 (``ddof=1``, as R's
    ``scale``)."""
    X = np.asarray(X, dtype=np.float64)
    return (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)


@cache
def _raw(file: str) -> np.ndarray:
    text = resources.files("gmm_core").joinpath("data_files", file).read_text("utf-8")
    rows = [line.split(",") for line in text.splitlines()[1:] if line.strip()]
    return np.array(rows, dtype=np.float64)


def load_shipped(name: str, *, standardised: bool = True) -> np.ndarray:
    """The points of a shipped data set, shape (N, 2), float64 (a fresh copy).

    Parameters
    ----------
    name : a key of :data:`SHIPPED`
    standardised : scale every column to mean 0 and standard deviation 1

    Raises
    ------
    KeyError
        For a name that is not in :data:`SHIPPED`.
    """
    raw = _raw(SHIPPED[name].file)
    return standardise(raw) if standardised else raw.copy()
