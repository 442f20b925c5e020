"""Small shared widgets: choosers, figure blocks, downloads, problems and number formats.

Must not import the sidebar, the fit flow or the views (they import this).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import numpy as np
import streamlit as st

import gmm_core
import gmm_figures as figures
from gmm_app import chart_export, exports, fit_notes, presenter, profiling
from gmm_app.app_settings import SETTINGS_STATE
from gmm_app.live_chart import live_chart
from gmm_app.param_types import Param
from gmm_app.params import (
    BEST_RESTART,
    BIC_CHOICE,
    SIGMAS,
    VIEW,
    k_choice_param,
    restart_choice_param,
)
from gmm_app.summaries import FitView, fit_view

NO_TRUTH = "no true labels"
"""What a truth metric (ARI, true K) shows for real or uploaded data."""


def escape_markdown(text: str, max_chars: int = 40) -> str:
    """Make untrusted text inert in Streamlit Markdown: escape punctuation, cut it short."""
    text = text[:max_chars] + ("…" if len(text) > max_chars else "")
    text = re.sub(r"[!-/:-@\[-`{-~]", r"\\\g<0>", text)  # every ASCII punctuation mark
    return "".join(char if char.isprintable() else "?" for char in text)


def show_problems(problems: Sequence[str]) -> bool:
    """Show each problem as an error; True when there were none."""
    for problem in problems:
        st.error(problem, icon="🚫")
    return not problems


# --------------------------------------------------------------------------- page widgets


def k_chooser(k_values: Sequence[int], bic_k: int, *, label: str = "K") -> int:
    """Select K (default: the BIC's choice); returns the K to show."""
    param = k_choice_param((int(k_values[0]), int(k_values[-1])))
    help_ = f"BIC picks K = {bic_k} (lowest BIC of the best restart)."
    choice = bound(st.selectbox, param, label, help=help_)
    return bic_k if choice == BIC_CHOICE else int(choice)


def restart_chooser(n_restarts: int, best: int) -> int:
    """Select a restart (default: the best one); returns its index."""
    param = restart_choice_param(n_restarts)
    help_ = f"The best restart (highest final log-likelihood) is #{best}."
    choice = bound(st.selectbox, param, "Restart", help=help_)
    return best if choice == BEST_RESTART else int(choice)


def bound(widget: Callable[..., Any], param: Param, label: str, **kwargs: Any) -> Any:
    """``widget`` (a Streamlit input) over ``param``'s options or range, its default and
    key from ``param``, bound to its query parameter."""
    if not param.options:  # slider, number_input
        kwargs |= {"min_value": param.low, "max_value": param.high, "value": param.default}
        return widget(label, key=param.key, bind="query-params", **kwargs)
    if widget is st.selectbox:
        kwargs["index"] = param.options.index(param.default)
    elif widget is st.multiselect:
        kwargs["default"] = list(param.default)
    else:  # select_slider
        kwargs["value"] = param.default
    return widget(
        label, param.options, format_func=param.label, key=param.key, bind="query-params", **kwargs
    )


def sigma_chooser() -> tuple[float, ...]:
    """Which ellipses to draw, by σ or by the probability they hold; none draws none."""
    chosen = bound(
        st.multiselect,
        SIGMAS,
        "Ellipses (probability inside, 2-D)",
        help=(
            "In 2-D the nσ ellipse of a Gaussian holds 1 − exp(−n²/2) of its probability: "
            "1σ 39.3%, 2σ 86.5%, 3σ 98.9%. Or pick the ellipse that holds 50%, 90% or 95%. "
            "For data with more than two columns the ellipse is the component's Gaussian "
            "projected onto the plotted plane: it holds that share of the projected points, "
            "not of the full-dimensional Gaussian."
        ),
    )
    if not chosen:
        st.caption("No radius picked: only the means are drawn.")
    return tuple(float(s) for s in sorted(chosen))


def view_chooser() -> str:
    """Plot two chosen columns or the first two principal components."""
    return bound(
        st.selectbox,
        VIEW,
        "Plot axes",
        help="PCA: the first two principal components; Columns: two columns you choose.",
    )


def figure_block(name: str, build: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Build a Plotly figure and show it with a download button for it as standalone HTML.

    The figure is drawn in a :func:`~gmm_app.live_chart.live_chart` keyed by ``name``, so
    a rerun redraws it in place with ``Plotly.react`` instead of mounting a new chart. A
    figure that cannot be drawn (the builder raises ``ValueError``, e.g. for a
    degenerate fit) becomes a warning instead of a traceback. Returns the figure or None.
    """
    try:
        with profiling.phase("figure"):
            figure = build(*args, **kwargs)
    except ValueError as error:
        st.warning(f"This figure could not be drawn: {escape_markdown(str(error), 300)}")
        return None
    with profiling.phase("send"):  # Plotly's JSON, the protobuf message, the queue
        live_chart(presenter.figure_for_screen(figure), key=f"chart_{name}", config=_config(name))
    data = functools.partial(figures.to_html, figure)
    _download("Download figure (HTML)", data, f"{name}.html", "text/html", f"download_{name}")
    return figure


def _config(name: str) -> dict[str, Any]:
    """The toolbar's image export: the sidebar's format, a file name from the settings."""
    settings = st.session_state.get(SETTINGS_STATE)
    stem = chart_export.file_stem(getattr(settings, "preset", None), name)
    image_format = st.session_state.get(chart_export.IMAGE_FORMAT_KEY, "png")
    if image_format not in chart_export.IMAGE_FORMATS:
        image_format = "png"
    return chart_export.chart_config(stem, image_format)


def _download(label: str, data: Callable[[], Any], file_name: str, mime: str, key: str) -> None:
    """A download button whose file is made only when clicked; the click does not rerun."""
    st.download_button(
        label, data=data, file_name=file_name, mime=mime, key=key, on_click="ignore", icon="⬇️"
    )


def data_download(points: np.ndarray, labels: np.ndarray | None, name: str) -> None:
    """A download button for the data set as CSV."""
    data = functools.partial(exports.dataset_csv, points, labels)
    _download("Download data (CSV)", data, f"{name}.csv", "text/csv", f"download_{name}_csv")


def share_link() -> str:
    """The address that reproduces this view: the page's URL (when the browser sent it)
    and its query parameters."""
    pairs = [(key, value) for key in st.query_params for value in st.query_params.get_all(key)]
    query = urlencode(pairs)
    base = st.context.url or ""
    return base + (f"?{query}" if query else "")


def settings_download(export: Mapping[str, Any], name: str) -> None:
    """A download button for the settings as JSON, with the shareable link."""
    query = {key: st.query_params.get_all(key) for key in st.query_params}
    data = functools.partial(exports.settings_json, dict(export), query, share_link())
    _download(
        "Download settings and link (JSON)",
        data,
        f"{name}_settings.json",
        "application/json",
        f"download_{name}_settings",
    )


def data_and_settings_downloads(
    points: np.ndarray, labels: np.ndarray | None, export: Mapping[str, Any], name: str
) -> None:
    """The data set and the settings side by side (for pages whose fit did not run)."""
    left, right = st.columns(2)
    with left:
        data_download(points, labels, f"{name}_data")
    with right:
        settings_download(export, name)


def format_metric(value: float, spec: str) -> str:
    """A number for ``st.metric``: ``format(value, spec)``, or "—" when it is NaN or ±inf."""
    number = float(value)
    return format(number, spec) if math.isfinite(number) else "—"


def sweep_downloads(
    result: gmm_core.SweepResult,
    points: np.ndarray,
    labels: np.ndarray | None,
    export: Mapping[str, Any],
    *,
    name: str = "gmm_explorer",
) -> None:
    """Download buttons for the fitted parameters (BIC's K, best restart) and the data."""
    k = result.best_k("bic", warn=False)
    fit = fit_view(result, k, int(result.best_restart()[result.k_index(k)]))
    left, middle, right = st.columns(3)
    with left:
        fit_download(result, fit, export, name, f"{name}_fit.json")
    with middle:
        data_download(points, labels, f"{name}_data")
    with right:
        settings_download(export, name)


def fit_download(
    result: gmm_core.SweepResult,
    fit: FitView,
    export: Mapping[str, Any],
    name: str,
    file_name: str,
    columns: Sequence[str] | None = None,
) -> None:
    """A download button for the fitted parameters as JSON (see :func:`exports.fit_json`)."""
    data = functools.partial(exports.fit_json, result, fit, settings=dict(export), columns=columns)
    key = f"download_{name}_json"
    _download("Download fitted parameters (JSON)", data, file_name, "application/json", key)


def format_seconds(seconds: float) -> str:
    """``"about 40 s"``, ``"about 3 min"``, ``"about 2.5 h"`` (never NaN or negative)."""
    if not math.isfinite(seconds) or seconds < 0:
        return "an unknown time"
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 5400:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"


def format_bytes(n_bytes: float) -> str:
    """``"512 MB"``, ``"2.3 GB"`` (powers of 1024)."""
    if n_bytes < 2**30:
        return f"{max(n_bytes, 0) / 2**20:.0f} MB"
    return f"{n_bytes / 2**30:.1f} GB"


def show_notes(notes: Sequence[fit_notes.Note]) -> None:
    """Warnings as ``st.warning``, the rest as captions (not in presenter mode)."""
    for note in notes:
        if note.level == "warning":
            st.warning(note.text, icon="⚠️")
        elif not presenter.presenting():
            st.caption(note.text)
