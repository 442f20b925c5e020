"""Restart and initialisation statistics: final log-likelihoods, init methods compared.

Trace names:

* :func:`final_log_likelihood_histogram`: ``"final log-likelihood"``;
* :func:`init_comparison_figure`: one box per method (named after it),
  ``"fraction near best"`` and ``"mean iterations"``.

Pure: Plotly and NumPy only; must not import Streamlit or ``gmm_app``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from numpy.typing import ArrayLike
from plotly.subplots import make_subplots

from gmm_core.tolerances import NEAR_BEST_TOLERANCE
from gmm_figures.style import (
    PALETTE,
    SMALL_FONT_SIZE,
    TEXT_COLOR,
    add_notes,
    apply_layout,
    as_float_array,
    color_for,
    decimals_for,
    plural,
    rounded,
)

__all__ = ["final_log_likelihood_histogram", "init_comparison_figure"]


def final_log_likelihood_histogram(
    final_log_likelihood: ArrayLike,
    *,
    tolerance: float = NEAR_BEST_TOLERANCE,
    title: str | None = None,
) -> go.Figure:
    """Histogram of the restarts' final log-likelihoods, with the best one marked.

    The annotation reports how many restarts end within ``tolerance`` of the best, out of
    all R restarts (a restart with a non-finite value counts as not near the best). Bins are
    at least ``tolerance / 2`` wide, so restarts that agree within the tolerance share a
    bin or two.

    Parameters
    ----------
    final_log_likelihood
        Shape (R,). Non-finite values are dropped (noted).
    tolerance
        Non-negative distance from the best that counts as "reached the best".
    title
        Figure title.

    Returns
    -------
    go.Figure
    """
    values = as_float_array(final_log_likelihood, "final_log_likelihood")
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"final_log_likelihood must have shape (R,), R >= 1, got {values.shape}")
    tol = float(tolerance)
    if not np.isfinite(tol) or tol < 0:
        raise ValueError(f"tolerance must be finite and non-negative, got {tolerance!r}")
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise ValueError("final_log_likelihood holds no finite value")
    notes = []
    if finite.size < values.size:
        notes.append(f"{plural(values.size - finite.size, 'non-finite value')} dropped")
    best = float(finite.max())
    n_near = int(np.count_nonzero(finite >= best - tol))
    spread = float(best - finite.min())
    width = max(spread / 30.0, tol / 2.0, abs(best) * 1e-12, 1e-12)
    decimals = decimals_for(finite, [best - width])
    shown = rounded(finite, decimals)
    # Equal bins: the last centred on the best, the first on the lowest.
    n_bins = int(np.floor((max(shown) - min(shown)) / width + 0.5)) + 1
    end = max(shown) + width / 2
    start = end - n_bins * width
    if start >= min(shown) - 1e-6 * width:
        start -= width
    fig = go.Figure(
        go.Histogram(
            x=shown,
            name="final log-likelihood",
            xbins={"start": start, "end": end, "size": width},
            marker={"color": PALETTE[0], "line": {"color": "white", "width": 1}},
            hovertemplate="log-likelihood %{x}<br>%{y} restarts<extra></extra>",
        )
    )
    text = (
        f"best {best:.{max(decimals, 0)}f}<br>{n_near} of {values.size} restarts "
        f"({n_near / values.size:.0%}) within {tol:g} of the best"
    )
    fig.add_vline(  # dashed, at the rounded best value
        x=rounded(best, decimals),
        line={"color": PALETTE[1], "width": 3, "dash": "dash"},
        annotation_position="top left",
        annotation={
            "name": "near best",
            "text": text,
            "align": "right",
            "bgcolor": "rgba(255,255,255,0.85)",
            "font": {"size": SMALL_FONT_SIZE + 2, "color": TEXT_COLOR},
        },
    )
    fig.update_xaxes(title_text="final mean log-likelihood")
    fig.update_yaxes(title_text="restarts")
    fig.update_layout(showlegend=False, bargap=0.05)
    apply_layout(fig, title=title, height=480)
    add_notes(fig, notes, y_shift=8, margin=30)
    return fig


def init_comparison_figure(
    methods: Sequence[str],
    *,
    fraction_near_best: Sequence[float],
    mean_iterations: Sequence[float],
    final_log_likelihoods: Sequence[ArrayLike],
    title: str | None = None,
) -> go.Figure:
    """Initialisation methods side by side on the same data.

    Left: final log-likelihood of every restart per method (box with all points). Middle:
    fraction of restarts that reached the best solution. Right: mean EM iterations. Each
    method keeps its colour in all three panels.

    Parameters
    ----------
    methods
        M method names.
    fraction_near_best
        M fractions in [0, 1].
    mean_iterations
        M non-negative numbers.
    final_log_likelihoods
        M arrays of shape (R_m,). Non-finite values are dropped (noted).
    title
        Figure title.

    Returns
    -------
    go.Figure
    """
    names = [str(method) for method in methods]
    n_methods = len(names)
    if n_methods == 0:
        raise ValueError("methods must not be empty")
    if len(set(names)) != n_methods:
        raise ValueError(f"methods must be distinct, got {names}")
    fractions = as_float_array(fraction_near_best, "fraction_near_best")
    iterations = as_float_array(mean_iterations, "mean_iterations")
    for name, array in (("fraction_near_best", fractions), ("mean_iterations", iterations)):
        if array.shape != (n_methods,):
            raise ValueError(f"{name} must have shape ({n_methods},), got {array.shape}")
    if len(final_log_likelihoods) != n_methods:
        raise ValueError(
            f"final_log_likelihoods must hold {n_methods} arrays, got {len(final_log_likelihoods)}"
        )
    samples = []
    for name, array_like in zip(names, final_log_likelihoods, strict=True):
        array = as_float_array(array_like, f"final_log_likelihoods[{name!r}]")
        if array.ndim != 1:
            raise ValueError(f"final_log_likelihoods[{name!r}] must be 1-D, got {array.shape}")
        samples.append(array)
    all_samples = np.concatenate(samples)
    if not (
        np.any(np.isfinite(all_samples))
        or np.any(np.isfinite(fractions))
        or np.any(np.isfinite(iterations))
    ):
        raise ValueError("every input value is non-finite")
    notes = []
    n_bad_samples = int(np.count_nonzero(~np.isfinite(all_samples)))
    if n_bad_samples:
        notes.append(f"{plural(n_bad_samples, 'non-finite log-likelihood')} dropped")
    for label, array in (("fraction", fractions), ("mean iterations", iterations)):
        missing = [names[i] for i in np.flatnonzero(~np.isfinite(array))]
        if missing:
            notes.append(f"no {label} for {', '.join(missing)}")

    colors = [color_for(i) for i in range(n_methods)]
    fig = make_subplots(
        rows=1,
        cols=3,
        column_widths=[0.44, 0.28, 0.28],
        horizontal_spacing=0.09,
        subplot_titles=(
            "final log-likelihood per restart",
            "fraction of restarts near best",
            "mean EM iterations",
        ),
    )
    decimals = decimals_for(all_samples)
    for name, array, color in zip(names, samples, colors, strict=True):
        box = go.Box(  # all points of the method's finite final log-likelihoods
            y=rounded(array[np.isfinite(array)], decimals),
            name=name,
            boxpoints="all",
            jitter=0.5,
            pointpos=0,
            marker={"color": color, "size": 7, "opacity": 0.6},
            line={"color": color, "width": 2},
            fillcolor="rgba(0,0,0,0)",
            hovertemplate=f"{name}<br>%{{y}}<extra></extra>",
        )
        fig.add_trace(box, row=1, col=1)
    for column, (name, array, text_format) in enumerate(
        (("fraction near best", fractions, "{:.0%}"), ("mean iterations", iterations, "{:.1f}")),
        start=2,
    ):
        present = np.flatnonzero(np.isfinite(array))  # one bar per method with a value
        bar = go.Bar(
            x=[names[i] for i in present],
            y=rounded(array[present], 4),
            name=name,
            marker={"color": [colors[i] for i in present]},
            text=[text_format.format(array[i]) for i in present],
            textposition="outside",
            cliponaxis=False,
            textfont={"size": SMALL_FONT_SIZE},
            hovertemplate=f"%{{x}}<br>{name} %{{y}}<extra></extra>",
        )
        fig.add_trace(bar, row=1, col=column)
    fig.update_yaxes(title_text="final mean log-likelihood", row=1, col=1)
    fig.update_yaxes(range=[0, 1.12], tickformat=".0%", row=1, col=2)
    finite_iterations = iterations[np.isfinite(iterations)]
    top = float(finite_iterations.max()) if finite_iterations.size else 1.0
    fig.update_yaxes(range=[0, max(top, 1.0) * 1.15], row=1, col=3)
    fig.update_layout(showlegend=False, hovermode="closest")
    apply_layout(fig, title=title, height=520)
    add_notes(fig, notes, y_shift=8, margin=30)
    return fig
