"""Presenter scaling: fonts, lines and markers of any figure made larger for a projector.

Pure: Plotly only; must not import Streamlit or ``gmm_app``.
"""

from __future__ import annotations

import json
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

__all__ = ["PRESENTER_SCALE", "scale_for_presenter"]

PRESENTER_SCALE = 1.5
_SIZED = {"font", "tickfont", "title_font", "titlefont", "marker", "textfont", "hoverlabel"}


def _scaled(value: Any, factor: float) -> Any:
    if isinstance(value, list):
        return [_scaled(v, factor) for v in value]
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return value * factor if is_number else value


def _walk(node: Any, factor: float, parent: str = "") -> None:
    """Scale, in place, every ``size`` under a font or marker and every line ``width``."""
    if isinstance(node, list):
        for item in node:
            _walk(item, factor, parent)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "size" and parent in _SIZED or key == "width" and parent == "line":
            node[key] = _scaled(value, factor)
        else:
            _walk(value, factor, key)


def scale_for_presenter(
    fig: go.Figure | dict, factor: float = PRESENTER_SCALE, max_height: int | None = None
) -> dict:
    """A copy of ``fig``, as a figure dict, with fonts, line widths and marker sizes times
    ``factor``.

    Parameters
    ----------
    fig : any figure or figure dict (frames included)
    factor : the scale (1.5 for presenter mode)
    max_height : the tallest the figure may be, in pixels, or None to keep its height
    """
    spec = json.loads(pio.to_json(fig, validate=False))
    layout = spec.setdefault("layout", {})
    layout.setdefault("font", {}).setdefault("size", 12)
    _walk(spec, factor)
    if max_height is not None:
        layout["height"] = min(int(layout.get("height") or max_height), int(max_height))
    return spec
