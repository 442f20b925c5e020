"""Reading the numbers out of a Plotly figure (checks that no NaN or infinity got in)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import numpy as np
import plotly.graph_objects as go


def numbers(node: Any) -> Iterator[float]:
    """Every number in a plotly structure, decoding base64 typed arrays."""
    if isinstance(node, dict):
        if "bdata" in node and "dtype" in node:
            yield from np.frombuffer(base64.b64decode(node["bdata"]), dtype=node["dtype"]).tolist()
            return
        for value in node.values():
            yield from numbers(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from numbers(value)
    elif isinstance(node, np.ndarray):
        yield from numbers(node.tolist())
    elif isinstance(node, int | float | np.number) and not isinstance(node, bool):
        yield float(node)


def figure_numbers(figure: go.Figure) -> np.ndarray:
    """Every number of the figure and its frames (plotly's to_json would turn NaN into null)."""
    structure = figure.to_plotly_json()
    structure["frames"] = [frame.to_plotly_json() for frame in figure.frames]
    return np.array(list(numbers(structure)))
