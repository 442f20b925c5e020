"""Shared look and input hygiene for every GMM Explorer figure.

The figures are shown on projectors: a light template, an 18 px base font, and a
colour-blind-safe palette in which every colour has at least 3:1 contrast against white.
This module also holds the small helpers the builders share: dropping non-finite rows,
rounding the numbers written into traces, and the "notes" annotation that reports what
was dropped.

Pure: must not import Streamlit or ``gmm_app``.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from numpy.typing import ArrayLike

from gmm_core.geometry import coverage_of_radius

__all__ = [
    "PALETTE",
    "apply_layout",
    "color_for",
    "sanitize_points",
    "to_html",
]

# Okabe–Ito order (orange and sky blue darkened to reach 3:1 contrast on white), then
# Paul Tol's wine, olive and indigo and a dark brown.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#BF7F00",  # orange, darkened
    "#882255",  # wine
    "#3A8FC4",  # sky blue, darkened
    "#999933",  # olive
    "#332288",  # indigo
    "#6F4E37",  # brown
)

TEXT_COLOR = "#222222"
MUTED_TEXT_COLOR = "#555555"
DATA_GREY = "#8C8C8C"
LIGHT_GREY = "#BDBDBD"
BASE_FONT_SIZE = 18
SMALL_FONT_SIZE = 16
TITLE_FONT_SIZE = 24
FONT_FAMILY = "Arial, Helvetica, sans-serif"
TEMPLATE = "plotly_white"

NOTES_NAME = "notes"

_ROUNDING_LIMIT = 1e300  # below float64's largest, 1.8e308
_MAX_DECIMALS = 15


def color_for(index: int) -> str:
    """Palette colour of a component or cluster index; cycles through :data:`PALETTE`.

    Parameters
    ----------
    index
        Any integer (negative values cycle too).

    Returns
    -------
    str
        A ``"#RRGGBB"`` colour.
    """
    return PALETTE[int(index) % len(PALETTE)]


def figure_dict(
    fig: go.Figure, data: Sequence[dict] = (), frames: Sequence[dict] = (), **layout: object
) -> dict:
    """``fig`` as a plain figure dict: the trace dicts ``data`` drawn first, the ``frames``,
    the plain ``layout`` entries and the shared template added as they are.

    The builders whose traces, frames or sliders hold thousands of values (per-point
    colours, one frame per EM snapshot) make them as dicts: Plotly checks every value it is
    given one by one, and a dict figure (which ``st.plotly_chart``, ``plotly.io`` and
    Plotly.react take as they are) skips that. The rest of the layout comes from ``fig``,
    made by :func:`apply_layout` with ``template=None``, and is checked.
    """
    spec = fig.to_dict()
    spec["data"] = [*data, *spec["data"]]
    spec["layout"].update(layout, template=json.loads(_template_json()))
    if frames:
        spec["frames"] = list(frames)
    return spec


@functools.cache
def _template_json() -> str:
    return json.dumps(pio.templates[TEMPLATE].to_plotly_json())


def xy_trace(
    xy: np.ndarray, decimals: int, name: str, mode: str = "markers", **style: object
) -> dict:
    """A scatter trace dict through the rows of ``xy`` (N, 2), rounded to ``decimals`` places."""
    x, y = rounded(xy[:, 0], decimals), rounded(xy[:, 1], decimals)
    return {"type": "scatter", "x": x, "y": y, "mode": mode, "name": name, **style}


def apply_layout(
    fig: go.Figure, *, title: str | None = None, height: int = 560, template: str | None = TEMPLATE
) -> go.Figure:
    """Apply the shared template, fonts, margins and axis style to ``fig`` (in place).

    Parameters
    ----------
    fig
        Any figure; its traces are not touched.
    title
        Figure title, or ``None`` for none (the top margin shrinks).
    height
        Figure height in pixels; the width follows the container.
    template
        The Plotly template, or ``None`` where :func:`figure_dict` adds it.

    Returns
    -------
    go.Figure
        ``fig`` itself, for chaining.
    """
    if template is not None:
        fig.update_layout(template=template)
    fig.update_layout(
        colorway=list(PALETTE),
        font={"family": FONT_FAMILY, "size": BASE_FONT_SIZE, "color": TEXT_COLOR},
        height=int(height),
        margin={"l": 80, "r": 30, "t": 90 if title else 50, "b": 70},
        hoverlabel={"font": {"size": SMALL_FONT_SIZE, "family": FONT_FAMILY}},
        legend={"font": {"size": SMALL_FONT_SIZE}},
        paper_bgcolor="white",
        plot_bgcolor="white",
    )
    if title:
        fig.update_layout(
            title={"text": title, "x": 0.0, "xanchor": "left", "font": {"size": TITLE_FONT_SIZE}}
        )
    elif fig.layout.title.text is not None:
        fig.update_layout(title=None)  # an earlier title goes
    axis_style = {
        "title_font": {"size": BASE_FONT_SIZE},
        "tickfont": {"size": SMALL_FONT_SIZE},
        "showline": True,
        "linecolor": "#444444",
        "zeroline": False,
        "gridcolor": "#E5E5E5",
    }
    fig.update_xaxes(**axis_style)
    fig.update_yaxes(**axis_style)
    return fig


def to_html(fig: go.Figure | dict) -> str:
    """Standalone HTML page with plotly.js inlined (works offline, ~5 MB).

    Animations do not start on load: the page opens on the figure's final state.

    Parameters
    ----------
    fig
        The figure to export (a ``go.Figure`` or a figure dict).

    Returns
    -------
    str
    """
    return pio.to_html(fig, include_plotlyjs=True, full_html=True, auto_play=False)


def sanitize_points(X: ArrayLike) -> tuple[np.ndarray, int]:
    """Drop every row that holds a NaN or an infinity.

    Parameters
    ----------
    X
        Shape (N, D), numeric.

    Returns
    -------
    kept : np.ndarray, shape (N - dropped, D), float64
        The finite rows, in their original order.
    dropped : int
        Number of rows removed.
    """
    points = as_float_array(X, "X")
    if points.ndim != 2:
        raise ValueError(f"X must have shape (N, D), got {points.shape}")
    finite_rows = np.all(np.isfinite(points), axis=1)
    return points[finite_rows], int(points.shape[0] - np.count_nonzero(finite_rows))


# ----------------------------------------------------------------------------------------
# Helpers shared by the builders (not re-exported by the package).


def as_float_array(values: ArrayLike, name: str) -> np.ndarray:
    """``np.asarray(values, float64)`` with a ValueError naming ``name`` on failure."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be numeric: {error}") from error


def as_int_array(values: ArrayLike, name: str) -> np.ndarray:
    """Integer array from integers or integral finite floats; ValueError otherwise."""
    array = np.asarray(values)
    if array.dtype == np.bool_:
        raise ValueError(f"{name} must hold integers, got booleans")
    if np.issubdtype(array.dtype, np.integer):
        return array.astype(np.int64)
    floats = as_float_array(array, name)
    if not np.all(np.isfinite(floats)) or not np.all(floats == np.round(floats)):
        raise ValueError(f"{name} must hold finite integers")
    if np.any(np.abs(floats) >= 2.0**63):
        raise ValueError(f"{name} holds integers too large for int64")
    return floats.astype(np.int64)


def decimals_for(*arrays: ArrayLike, significant: int = 4) -> int:
    """Decimal places that keep ``significant`` digits of the finite values' spread.

    The spread (max - min) sets the scale, or the largest magnitude when all values are
    equal: values spanning 1-10 get 4 decimals, 10-100 get 3, 1e-6-1e-5 get 10.

    Parameters
    ----------
    *arrays
        Any shapes; non-finite entries are ignored.
    significant
        Digits kept relative to the scale.

    Returns
    -------
    int
        May be negative (rounding to tens, hundreds, ...).
    """
    parts = [np.ravel(np.asarray(array, dtype=np.float64)) for array in arrays]
    values = np.concatenate(parts) if parts else np.zeros(0)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return significant
    with np.errstate(over="ignore"):
        scale = float(np.ptp(values))  # inf when the values span more than float64 can hold
    if not math.isfinite(scale) or scale <= 0.0:
        scale = float(np.max(np.abs(values)))
    if scale <= 0.0:
        return significant
    return int(significant - np.floor(np.log10(scale)))


def rounded(values: ArrayLike, decimals: int) -> list:
    """Finite values rounded to ``decimals`` places, as nested Python lists (compact JSON).

    Raises
    ------
    ValueError
        If any value is NaN or infinite: builders must filter first, so this is the last
        guard against a non-finite number reaching a figure.
    """
    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError("internal error: a non-finite value was about to reach a figure")
    if decimals > _MAX_DECIMALS:
        return array.tolist()
    # Rounding multiplies by 10**decimals first, which overflows near float64's limit.
    if array.size == 0 or np.max(np.abs(array)) < _ROUNDING_LIMIT / 10.0**decimals:
        return (np.round(array, decimals) + 0.0).tolist()  # + 0.0 turns -0.0 into 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        rounded_array = np.round(array, decimals) + 0.0
    return np.where(np.isfinite(rounded_array), rounded_array, array).tolist()


def padded_range(low: float, high: float, fraction: float = 0.05) -> list[float]:
    """``[low, high]`` widened by ``fraction`` of its span on each side (never empty).

    Raises
    ------
    ValueError
        When the range is not finite (values too large for float64 arithmetic): like
        :func:`rounded`, a last guard against infinity reaching an axis.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        span = np.float64(high) - np.float64(low)
        if span <= 0.0:
            span = max(abs(low), abs(high), 1.0) * 1e-6
        ends = [float(low - fraction * span), float(high + fraction * span)]
    if not all(math.isfinite(end) for end in ends):
        raise ValueError("the values are too large to draw (their range overflows float64)")
    return ends


def plane_ranges(xy: np.ndarray, fraction: float) -> tuple[list[float], list[float]]:
    """The x and y ranges over the rows of ``xy`` (N, 2), each as :func:`padded_range` widens it."""
    x_range, y_range = (
        padded_range(float(low), float(high), fraction)
        for low, high in zip(xy.min(axis=0), xy.max(axis=0), strict=True)
    )
    return x_range, y_range


LIKELIHOOD_MIN_RELATIVE_SPAN = 1e-3


def rings_caption(sigmas: Sequence[float]) -> str:
    """What the ellipses hold, e.g. ``"rings hold 39.3% (1σ), 86.5% (2σ)"`` (2-D Gaussian)."""
    if len(sigmas) == 0:
        return ""
    parts = [f"{coverage_of_radius(s):.1%} ({float(s):.3g}σ)" for s in sigmas]
    return "rings hold " + ", ".join(parts)


def likelihood_range(values: ArrayLike, fraction: float = 0.05) -> list[float]:
    """An axis range for log-likelihoods that never zooms into rounding noise.

    The span is at least ``1e-3`` of the largest magnitude (and at least ``1e-3``), so
    restarts that agree draw as one flat line instead of ticks like ``-5.7877990396``.

    Parameters
    ----------
    values : any shape; non-finite values are ignored (all non-finite gives ``[-1, 1]``)
    """
    array = np.asarray(values, dtype=np.float64)
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        return [-1.0, 1.0]
    low, high = float(finite.min()), float(finite.max())
    floor = LIKELIHOOD_MIN_RELATIVE_SPAN * max(abs(low), abs(high), 1.0)
    if high - low < floor:
        middle = 0.5 * (low + high)
        low, high = middle - floor / 2, middle + floor / 2
    return padded_range(low, high, fraction)


def add_notes(
    fig: go.Figure, notes: Sequence[str], *, y_shift: int = 0, margin: int = 0
) -> go.Figure:
    """Add one small annotation listing ``notes`` above the plot area's top-left corner, and
    ``margin`` pixels to the top margin to make room for it.

    Nothing is added when ``notes`` is empty. The annotation is named ``"notes"``.
    """
    if notes:
        add_caption(
            fig, NOTES_NAME, " · ".join(notes), side="left", y_shift=y_shift, color="#8A3B00"
        )
        fig.update_layout(margin_t=fig.layout.margin.t + margin)
    return fig


def add_caption(
    fig: go.Figure, name: str, text: str, *, side: str, y_shift: int, color: str
) -> go.Figure:
    """Add a small annotation named ``name`` above the plot area's top ``side`` corner."""
    fig.add_annotation(
        name=name,
        text=text,
        xref="paper",
        yref="paper",
        x=0.0 if side == "left" else 1.0,
        y=1.0,
        xanchor=side,
        yanchor="bottom",
        yshift=y_shift,
        showarrow=False,
        **({"align": "left"} if side == "left" else {}),
        font={"size": SMALL_FONT_SIZE, "color": color},
    )
    return fig


def equal_aspect_panel_axes(
    fig: go.Figure,
    panel: int,
    n_columns: int,
    ranges: tuple[list[float], list[float]],
    *,
    grid: bool = True,
    inner_tick_labels: bool = True,
) -> None:
    """Set one small-multiples panel's axes to ``ranges`` at equal aspect (1 x unit = 1 y unit).

    Parameters
    ----------
    fig
        Made by ``make_subplots``; panel ``p`` sits on axes ``x{p + 1}`` and ``y{p + 1}``.
    panel, n_columns
        The panel's 0-based index, counted row by row, and the number of panels a row.
    ranges
        The x and y axis ranges.
    grid
        ``False`` hides the grid lines.
    inner_tick_labels
        ``False`` keeps y tick labels in the first column only.
    """
    row, column = panel // n_columns + 1, panel % n_columns + 1
    anchor = "x" if panel == 0 else f"x{panel + 1}"
    x_style: dict[str, bool] = {} if grid else {"showgrid": False}
    y_style = dict(x_style)
    if not inner_tick_labels:
        y_style["showticklabels"] = column == 1
    fig.update_xaxes(range=ranges[0], constrain="domain", **x_style, row=row, col=column)
    fig.update_yaxes(
        range=ranges[1],
        constrain="domain",
        scaleanchor=anchor,
        scaleratio=1,
        **y_style,
        row=row,
        col=column,
    )


def subsample_indices(n_rows: int, max_rows: int) -> np.ndarray:
    """Sorted indices of a deterministic random subset of ``min(n_rows, max_rows)`` rows."""
    if n_rows <= max_rows:
        return np.arange(n_rows)
    chosen = np.random.default_rng(0).choice(n_rows, size=max_rows, replace=False)
    return np.sort(chosen)


def integer_tick_step(span: float, max_ticks: int = 8) -> int:
    """Tick spacing 1, 2, 5, 10, 20, 50, ... giving at most ``max_ticks`` ticks over ``span``."""
    step = 1
    while span / step > max_ticks:
        for factor in (2, 5 / 2, 2):
            step = int(step * factor)
            if span / step <= max_ticks:
                break
    return step


def plural(count: int, word: str) -> str:
    """``"1 point"``, ``"3 points"``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
