"""Log-likelihood curves of every restart, and model selection over K.

Trace names:

* :func:`log_likelihood_figure`: ``f"restart {r}"``, ``f"restart {r} (highlighted)"`` and
  ``"stopped"`` (one dot per restart where its curve ends);
* :func:`model_selection_figure`: ``f"{metric}: every restart"`` and
  ``f"{metric}: best restart"`` for ``metric`` in ``"BIC"``, ``"AIC"``,
  ``"log-likelihood"``;

The restart and initialisation statistics are in :mod:`gmm_figures.restart_stats`.

Pure: Plotly and NumPy only; must not import Streamlit or ``gmm_app``.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from numpy.typing import ArrayLike
from plotly.subplots import make_subplots

from gmm_core.checks import check_int
from gmm_figures.style import (
    LIGHT_GREY,
    MUTED_TEXT_COLOR,
    PALETTE,
    SMALL_FONT_SIZE,
    TEXT_COLOR,
    add_caption,
    add_notes,
    apply_layout,
    as_float_array,
    as_int_array,
    decimals_for,
    integer_tick_step,
    likelihood_range,
    padded_range,
    plural,
    rounded,
)

__all__ = ["log_likelihood_figure", "model_selection_figure"]

HIGHLIGHT_COLOR = PALETTE[0]
STRIP_HALF_WIDTH = 0.22
_METRIC_COLORS = {"BIC": PALETTE[0], "AIC": PALETTE[2], "log-likelihood": PALETTE[3]}
_METRIC_AXIS_TITLES = {"BIC": "BIC ↓", "AIC": "AIC ↓", "log-likelihood": "log-lik. ↑"}


def log_likelihood_figure(
    traces: ArrayLike,
    *,
    n_iter: ArrayLike,
    highlighted_restart: int,
    title: str | None = None,
) -> go.Figure:
    """Mean log-likelihood per EM iteration of every restart (static).

    Each restart's curve runs over iterations ``0..n_iter-1`` (the values recorded before
    each M step) and ends in a dot; the highlighted restart is thick and coloured.

    Parameters
    ----------
    traces
        Shape (R, T): mean log-likelihood at iterations ``0..T-1``. Non-finite values are
        dropped (noted).
    n_iter
        Shape (R,) int: EM iterations each restart ran.
    highlighted_restart
        Row of ``traces`` to highlight.
    title
        Figure title.

    Returns
    -------
    go.Figure
    """
    values = as_float_array(traces, "traces")
    if values.ndim != 2 or values.shape[0] == 0 or values.shape[1] == 0:
        raise ValueError(f"traces must have shape (R, T) with R, T >= 1, got {values.shape}")
    n_restarts, length = values.shape
    iterations = as_int_array(n_iter, "n_iter")
    if iterations.shape != (n_restarts,):
        raise ValueError(f"n_iter must have shape ({n_restarts},), got {iterations.shape}")
    highlighted = _check_restart_index(highlighted_restart, n_restarts)
    # A value is shown when it is finite and within its restart's run (0..n_iter-1).
    in_run = np.arange(length)[None, :] < np.clip(iterations, 1, length)[:, None]
    finite = np.isfinite(values)
    shown = finite & in_run  # (R, T)
    if not np.any(shown):
        raise ValueError("traces hold no finite log-likelihood value")
    notes = []
    n_dropped = int(np.count_nonzero(in_run & ~finite))
    if n_dropped:
        notes.append(f"{plural(n_dropped, 'non-finite log-likelihood value')} dropped")
    decimals = max(decimals_for(values[shown]), 4)  # see the animation's curve decimals
    order = [r for r in range(n_restarts) if r != highlighted] + [highlighted]
    drawn = [restart for restart in order if np.any(shown[restart])]
    fig = go.Figure()
    for restart in drawn:
        steps = np.flatnonzero(shown[restart])
        y = rounded(values[restart, steps], decimals)
        curve = {"type": "scatter", "x": steps.tolist(), "y": y, "mode": "lines"}
        fig.add_trace(curve | restart_curve_style(restart, highlighted))
    last_steps = [int(np.flatnonzero(shown[restart])[-1]) for restart in drawn]
    last_values = [values[restart, step] for restart, step in zip(drawn, last_steps, strict=True)]
    fig.add_scatter(  # one dot per drawn restart at its last shown value
        x=last_steps,
        y=rounded(last_values, decimals),
        text=[f"restart {r}: {plural(int(iterations[r]), 'iteration')}" for r in drawn],
        mode="markers",
        name="stopped",
        marker={
            "size": 8,
            "color": [HIGHLIGHT_COLOR if r == highlighted else MUTED_TEXT_COLOR for r in drawn],
        },
        hovertemplate="%{text}<br>last value %{y}<extra></extra>",
        showlegend=False,
    )
    last_step = max(int(np.max(np.flatnonzero(np.any(shown, axis=0)))), 2)
    fig.update_xaxes(
        title_text="EM iteration",
        range=padded_range(0.0, float(last_step), 0.03),
        tick0=0,
        dtick=integer_tick_step(last_step),
    )
    fig.update_yaxes(title_text="mean log-likelihood", range=likelihood_range(values[shown]))
    fig.update_layout(
        hovermode="closest",
        legend={"orientation": "h", "x": 1.0, "xanchor": "right", "y": 0.02, "yanchor": "bottom"},
    )
    apply_layout(fig, title=title)
    add_notes(fig, notes, y_shift=8, margin=30)
    return fig


def model_selection_figure(
    k_values: ArrayLike,
    *,
    bic: ArrayLike,
    aic: ArrayLike,
    final_log_likelihood: ArrayLike,
    chosen_k: int,
    true_k: int | None = None,
    title: str | None = None,
) -> go.Figure:
    """BIC, AIC and final log-likelihood against K, every restart plus the best one.

    Three stacked panels share the K axis. Every restart is a dot, spread sideways by a
    fixed offset per restart (the same restart sits at the same offset for every K); a
    line joins the best restart of each K (lowest BIC/AIC, highest log-likelihood). A
    dashed vertical line marks ``chosen_k``, a dotted one ``true_k``.

    Parameters
    ----------
    k_values
        Shape (n_k,), distinct ints.
    bic, aic, final_log_likelihood
        Shape (n_k, R). Non-finite entries are dropped (noted).
    chosen_k
        The selected K; must be one of ``k_values``.
    true_k
        The true number of clusters, or ``None``.
    title
        Figure title.

    Returns
    -------
    go.Figure
    """
    ks = as_int_array(k_values, "k_values")
    if ks.ndim != 1 or ks.size == 0 or np.unique(ks).size != ks.size:
        raise ValueError(f"k_values must be a non-empty 1-D array of distinct ints, got {ks}")
    chosen = check_int(chosen_k, "chosen_k")
    if chosen not in ks.tolist():
        raise ValueError(f"chosen_k={chosen} is not one of k_values {ks.tolist()}")
    truth = None if true_k is None else check_int(true_k, "true_k")
    metrics = []
    for name, array_like, better in (
        ("BIC", bic, np.min),
        ("AIC", aic, np.min),
        ("log-likelihood", final_log_likelihood, np.max),
    ):
        array = as_float_array(array_like, name)
        if array.ndim != 2 or array.shape[0] != ks.size or array.shape[1] == 0:
            raise ValueError(
                f"{name} must have shape ({ks.size}, R) with R >= 1, got {array.shape}"
            )
        metrics.append((name, array, better))
    n_restarts = metrics[0][1].shape[1]  # each restart's dot sits at the same offset for every K
    if any(array.shape[1] != n_restarts for _, array, _ in metrics):
        raise ValueError("bic, aic and final_log_likelihood must have the same shape")
    notes = []
    for name, array, _ in metrics:
        finite = np.isfinite(array)
        if not np.any(finite):
            raise ValueError(f"{name} holds no finite value")
        if not np.all(finite):
            notes.append(f"{name}: {plural(int(np.count_nonzero(~finite)), 'non-finite value')}")
    offsets = np.linspace(-1, 1, n_restarts) * STRIP_HALF_WIDTH if n_restarts > 1 else np.zeros(1)
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.05)
    for row, (name, array, better) in enumerate(metrics, start=1):
        # A strip of every restart and the line of the best ones.
        finite = np.isfinite(array)
        decimals = decimals_for(array)
        k_index, restart_index = np.nonzero(finite)
        color = _METRIC_COLORS[name]
        has_value = np.any(finite, axis=1)
        best = [better(array[i, finite[i]]) for i in np.flatnonzero(has_value)]
        fig.add_scatter(
            x=rounded(ks[k_index] + offsets[restart_index], 3),
            y=rounded(array[k_index, restart_index], decimals),
            customdata=np.stack([ks[k_index], restart_index], axis=1).tolist(),
            mode="markers",
            name=f"{name}: every restart",
            marker={"size": 8, "color": color, "opacity": 0.45, "line": {"width": 0}},
            hovertemplate=(
                f"K=%{{customdata[0]}}, restart %{{customdata[1]}}<br>{name} %{{y}}<extra></extra>"
            ),
            showlegend=False,
            row=row,
            col=1,
        )
        fig.add_scatter(
            x=ks[has_value].tolist(),
            y=rounded(best, decimals),
            mode="lines+markers",
            name=f"{name}: best restart",
            line={"color": color, "width": 3},
            marker={"size": 10, "color": color},
            hovertemplate=f"K=%{{x}}, best restart<br>{name} %{{y}}<extra></extra>",
            showlegend=False,
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text=_METRIC_AXIS_TITLES[name], row=row)
    # The shared K axis, the chosen and true K markers and the caption.
    shown_ks = ks.tolist() + ([] if truth is None else [truth])
    k_low, k_high = min(shown_ks), max(shown_ks)
    fig.update_xaxes(
        range=[k_low - 0.5, k_high + 0.5],
        tickmode="array",
        tickvals=list(range(k_low, k_high + 1)),
    )
    fig.update_xaxes(title_text="number of components K", row=3, col=1)
    _add_k_marker(fig, chosen, "chosen K (BIC)", "dash", PALETTE[1], "right")
    if truth is not None:
        _add_k_marker(fig, truth, "true K", "dot", TEXT_COLOR, "left")
    add_caption(
        fig,
        "caption",
        "dots: every restart · line: best restart of each K · arrow: better direction",
        side="right",
        y_shift=28,
        color=MUTED_TEXT_COLOR,
    )
    fig.update_layout(hovermode="closest", showlegend=False)
    apply_layout(fig, title=title, height=760)
    fig.update_layout(margin_t=fig.layout.margin.t + 40)
    add_notes(fig, notes, y_shift=58, margin=30)
    return fig


# ----------------------------------------------------------------------------------------


def _check_restart_index(value: int, n_restarts: int) -> int:
    index = check_int(value, "highlighted_restart")
    if not 0 <= index < n_restarts:
        raise ValueError(f"highlighted_restart must be in [0, {n_restarts}), got {index}")
    return index


def _add_k_marker(fig: go.Figure, k: int, label: str, dash: str, color: str, side: str) -> None:
    """Vertical line through all panels at ``k`` and a label above the top panel."""
    fig.add_shape(
        name=label,
        type="line",
        xref="x",
        yref="paper",
        x0=k,
        x1=k,
        y0=0,
        y1=1,
        line={"color": color, "width": 2.5, "dash": dash},
    )
    fig.add_annotation(
        name=label,
        text=f"{label} = {k}",
        xref="x",
        yref="paper",
        x=k,
        y=1.0,
        xanchor="right" if side == "right" else "left",
        xshift=-4 if side == "right" else 4,
        yanchor="bottom",
        showarrow=False,
        font={"size": SMALL_FONT_SIZE, "color": color},
    )


def restart_curve_style(restart: int, highlighted: int) -> dict:
    """A restart's log-likelihood curve: thick and coloured when highlighted, else thin grey."""
    is_highlighted = restart == highlighted
    return {
        "name": f"restart {restart} (highlighted)" if is_highlighted else f"restart {restart}",
        "line": {
            "color": HIGHLIGHT_COLOR if is_highlighted else LIGHT_GREY,
            "width": 4.5 if is_highlighted else 1.5,
        },
        "showlegend": is_highlighted,
        "hovertemplate": f"restart {restart}<br>iteration %{{x}}: %{{y}}<extra></extra>",
    }
