"""The shared sidebar: URL check, data and fit controls, and the settings every page reads.

``app.py`` calls :func:`render_sidebar` on every run before the page; pages call
:func:`current_settings`. Must not import the fit flow, the views or ``gmm_figures``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from gmm_app import chart_export, clusters_editor, live_chart, long_lived
from gmm_app.app_settings import (
    SETTINGS_STATE,
    Settings,
    as_list,
    parse_query_params,
    settings_from_values,
)
from gmm_app.cluster_table import ClusterTable
from gmm_app.datasets import LOOK_FOR
from gmm_app.param_types import Param
from gmm_app.params import (
    CLUSTERS_KEY,
    COVARIANCE,
    DATA_SEED,
    INIT,
    INIT_MEANS,
    INIT_SEED,
    K_RANGE,
    MAX_ITER,
    MAX_SEED,
    N_POINTS,
    NOISE,
    PRESET,
    REG_COVAR,
    RESTARTS,
    SIGMAS,
    TOL,
    is_shipped,
    preset_description,
    preset_init,
    preset_k_range,
)
from gmm_app.widgets import bound, escape_markdown
from gmm_core.compilation_cache import enable_compilation_cache
from gmm_core.cpu_devices import use_cpu_cores

PAGE_CONFIG: dict[str, Any] = {
    "page_title": "GMM Explorer",
    "page_icon": "🎯",
    "layout": "wide",
    "initial_sidebar_state": "expanded",
}


def describe_ignored(ignored: Sequence[tuple[str, str]], limit: int = 8) -> str:
    """One Markdown-safe sentence listing the ignored parameters."""
    parts = [f"{escape_markdown(key)} ({reason})" for key, reason in ignored[:limit]]
    if len(ignored) > limit:
        parts.append(f"and {len(ignored) - limit} more")
    return "Some settings in the link were ignored: " + "; ".join(parts) + "."


# --------------------------------------------------------------------------- widgets

_URL_CHECKED = "_url_checked"
_URL_IGNORED = "_url_ignored"
_SIDEBAR_DRAWN = "_sidebar_drawn"


def _sanitize_url_once() -> None:
    """On a session's first run, validate the URL before any widget reads it.

    Invalid parameters are removed or rewritten, then the script reruns so the
    widgets seed from the cleaned URL; the next run shows one warning.
    """
    if st.session_state.get(_URL_CHECKED):
        return
    st.session_state[_URL_CHECKED] = True
    raw = {key: st.query_params.get_all(key) for key in st.query_params}
    parsed = parse_query_params(raw)
    clusters_editor.remember_url_table(parsed.clusters)
    # A preset's own K range and init, or an ellipse named by an older label, go into the URL.
    rewritten = any(
        key in parsed.url and as_list(parsed.url[key]) != raw.get(key)
        for key in (K_RANGE.key, INIT.key, SIGMAS.key)
    )
    if not parsed.ignored and not rewritten:
        return
    if parsed.ignored:
        st.session_state[_URL_IGNORED] = parsed.ignored
    st.query_params.from_dict(parsed.url)
    st.rerun()


def _new_seed(key: str) -> None:
    """Any seed but the current one, each equally likely."""
    current = int(st.session_state.get(key) or 0)
    st.session_state[key] = (current + 1 + secrets.randbelow(MAX_SEED)) % (MAX_SEED + 1)


def _on_preset_change() -> None:
    """A new preset: its clusters (none for real data), K range and suggested initialisation,
    edits discarded."""
    name = st.session_state[PRESET.key]
    st.session_state[K_RANGE.key] = preset_k_range(name)
    if is_shipped(name):
        return
    clusters_editor.reset_table(name)
    if (suggested := preset_init(name)) is not None:
        st.session_state[INIT.key] = suggested


def render_sidebar() -> Settings:
    """Validate the URL, draw the shared sidebar and store the settings in session state.

    Called by ``app.py`` on every run before the page, so every page sees the same
    :class:`Settings` (see :func:`current_settings`).
    """
    _sanitize_url_once()
    ignored = st.session_state.pop(_URL_IGNORED, None)
    if ignored:
        st.warning(describe_ignored(ignored), icon="⚠️")
    values: dict[str, Any] = {}
    with st.sidebar:
        live_chart.preload_plotly()  # the browser parses Plotly.js while the page computes
        table, problems = _data_controls(values)
        _fit_controls(values)
    settings = settings_from_values(values, table, problems)
    st.session_state[SETTINGS_STATE] = settings
    st.session_state[_SIDEBAR_DRAWN] = True
    return settings


def current_settings() -> Settings:
    """The settings drawn by :func:`render_sidebar` on this run; every page calls this first.

    When a page script runs without ``app.py`` (Streamlit's legacy ``pages/`` mode runs
    a requested page on its own until ``st.navigation`` has been called once in the
    server process), the sidebar is drawn here instead, so the page never sees stale
    settings.
    """
    if not st.session_state.pop(_SIDEBAR_DRAWN, False):
        st.set_page_config(**PAGE_CONFIG)
        startup()
        render_sidebar()
        st.session_state.pop(_SIDEBAR_DRAWN, None)
    return st.session_state[SETTINGS_STATE]


# --------------------------------------------------------------------------- start-up

_STARTED: dict[str, Path | None] = {}


def startup() -> Path | None:
    """Once per process: one JAX device per CPU core, the persistent compilation cache, and
    the pages' modules set aside from the garbage collector (:mod:`gmm_app.long_lived`).

    The devices take effect only if JAX has not started yet (true for a fresh server);
    the cache directory comes from ``GMM_COMPILATION_CACHE`` (empty: off), see
    :mod:`gmm_core.compilation_cache`. Returns the directory, or None when off.
    """
    if "cache" not in _STARTED:
        use_cpu_cores()
        _STARTED["cache"] = enable_compilation_cache()
        long_lived.set_aside_imports()
    return _STARTED["cache"]


def _data_controls(values: dict[str, Any]) -> tuple[ClusterTable, list[str]]:
    """The Data section; fills ``values`` and returns the cluster table and its problems."""
    st.header("Data")
    values[PRESET.key] = bound(
        st.selectbox,
        PRESET,
        "Preset",
        on_change=_on_preset_change,
        help="A gmm_core teaching data set; picking one resets the cluster table.",
    )
    shipped = is_shipped(values[PRESET.key])
    st.caption(preset_description(values[PRESET.key]))
    st.caption(f"**Look for:** {LOOK_FOR[values[PRESET.key]]}")
    table: ClusterTable = ()
    problems: list[str] = []
    if shipped:
        st.query_params.pop(CLUSTERS_KEY, None)  # a fixed table has no true clusters
        st.caption("A fixed data set: noise, the number of points and the seed do not apply.")
    else:
        with st.expander("True clusters", expanded=False):
            table, problems = clusters_editor.cluster_editor(values[PRESET.key])
    # Drawn (disabled) for real data too, so they keep their values for the next preset.
    noise_label = "Noise (multiplies every σ)"
    values[NOISE.key] = bound(st.slider, NOISE, noise_label, step=NOISE.step, disabled=shipped)
    n_label = "Number of points"
    values[N_POINTS.key] = bound(st.number_input, N_POINTS, n_label, step=100, disabled=shipped)
    values[DATA_SEED.key] = _seed(
        DATA_SEED,
        "Data seed",
        ("New data", "new_data", "🎲"),
        "Draw a new data seed; the fit settings stay.",
        disabled=shipped,
    )
    return table, problems


def _fit_controls(values: dict[str, Any]) -> None:
    """The Fit section; fills ``values`` by query-parameter name."""
    st.header("Fit")
    values[K_RANGE.key] = bound(st.slider, K_RANGE, "K range")
    values[RESTARTS.key] = bound(st.slider, RESTARTS, "Restarts per K")
    values[INIT.key] = bound(st.selectbox, INIT, "Initialisation")
    values[COVARIANCE.key] = bound(st.selectbox, COVARIANCE, "Covariance type")
    values[MAX_ITER.key] = bound(st.number_input, MAX_ITER, "max_iter", step=10)
    values[TOL.key] = bound(st.select_slider, TOL, "tol (change in mean log-likelihood)")
    values[REG_COVAR.key] = bound(
        st.select_slider,
        REG_COVAR,
        "reg_covar (added to every covariance's diagonal)",
        help="Keeps covariances positive definite. Towards 0 a component can shrink onto a "
        "few identical points and the likelihood grows without bound (try the singularity "
        "preset).",
    )
    values[INIT_SEED.key] = _seed(
        INIT_SEED,
        "Init seed",
        ("New initialisations", "new_init", "🔁"),
        "Draw a new init seed and keep the data.",
    )
    values[INIT_MEANS.key] = placed_means()
    if values[INIT_MEANS.key]:
        k = len(values[INIT_MEANS.key])
        st.caption(
            f"**Placed means:** one fit from {k} placed means (K = {k}); the K range, "
            "restarts, initialisation and init seed wait until they are cleared."
        )
    st.caption("Every setting is kept in the page address: copy it to share this view.")
    st.radio(
        "Chart toolbar's camera saves",
        chart_export.IMAGE_FORMATS,
        format_func=chart_export.IMAGE_FORMAT_LABELS.get,
        key=chart_export.IMAGE_FORMAT_KEY,
        horizontal=True,
        help="For slides: every chart's camera button (top right) saves this, named after "
        "the settings. Plotly draws the image in the browser, so it works offline.",
    )


def placed_means() -> tuple[tuple[float, float], ...]:
    """The placed initial means of the URL (``init_means``), () when absent or invalid.

    Not a widget: the Explore view writes the parameter ("Fit from these"). The URL was
    validated on the session's first run, so a bad value was already reported.
    """
    return INIT_MEANS.parse(st.query_params.get_all(INIT_MEANS.key)).value


def _seed(param: Param, label: str, button: tuple[str, str, str], help: str, **kwargs: Any) -> int:
    """A seed input and the button that draws a new seed: ``button`` is (label, key, icon)."""
    value = bound(st.number_input, param, label, **kwargs)
    text, key, icon = button
    st.button(text, key=key, on_click=_new_seed, args=(param.key,), icon=icon, help=help, **kwargs)
    return value
