"""Export for slides: what the camera button in every chart's toolbar saves.

Plotly draws the image in the browser (no server, works offline): PNG at 2× scale or
SVG, named after the settings. :func:`gmm_app.widgets.figure_block` passes
:func:`chart_config` to every chart it draws; the format is chosen once, in the
sidebar, under :data:`IMAGE_FORMAT_KEY`.

Pure: no Streamlit. Must not import other ``gmm_app`` modules.
"""

from __future__ import annotations

import re
from typing import Any

IMAGE_FORMATS = ("png", "svg")
IMAGE_FORMAT_LABELS = {"png": "PNG at 2× scale", "svg": "SVG (vector)"}
IMAGE_FORMAT_KEY = "image_format"
PNG_SCALE = 2

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def file_stem(preset: str | None, name: str) -> str:
    """A file name without extension: ``"gmm_old_faithful_explore_panels"``."""
    parts = ["gmm", *([preset] if preset else []), name]
    return _UNSAFE.sub("-", "_".join(parts)).strip("-") or "gmm_chart"


def chart_config(stem: str, image_format: str = "png") -> dict[str, Any]:
    """Plotly's ``config`` for a chart: the camera button saves ``stem``.png (2×) or .svg.

    Raises
    ------
    ValueError
        For a format other than ``"png"`` or ``"svg"``.
    """
    if image_format not in IMAGE_FORMATS:
        raise ValueError(f"image format must be one of {IMAGE_FORMATS}, got {image_format!r}")
    scale = PNG_SCALE if image_format == "png" else 1
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": image_format, "scale": scale, "filename": stem},
    }
