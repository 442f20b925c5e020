"""The dashboard's settings: defaults, ranges, the URL ↔ settings mapping and the shared sidebar.

Two layers live here.

* Pure functions (no Streamlit calls, unit-tested on their own): the parameter
  specifications, :func:`parse_query_params` which validates untrusted query
  parameters, the cluster-table codec (:func:`encode_clusters`,
  :func:`decode_clusters`, :func:`validate_cluster_rows`) and :class:`Settings`.
* Widget functions: :func:`render_sidebar`, called by ``app.py`` on every page
  before the page runs, and small layout helpers shared by the pages.

Every sidebar control is bound to the URL with ``bind="query-params"``; its key is
its query-parameter name. The cluster table, which ``st.data_editor`` cannot bind, is
written by hand into the ``clusters`` parameter as ``x,y,sx,sy,rot,w;...``.
"""

from __future__ import annotations

import functools
import math
import re
import secrets
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import streamlit as st

import gmm_core
import gmm_figures as figures
from gmm_app import compute
from gmm_app.compute import Cluster, ClusterTable, DataKey, FitKey
from gmm_app.upload import ParsedUpload, to_csv_bytes
from gmm_core import COVARIANCE_TYPES, DEFAULT_PRESET, INIT_METHODS, PRESETS, budget, geometry
from gmm_core.budget import WorkEstimate
from gmm_core.compilation_cache import enable_compilation_cache
from gmm_core.parallel import use_every_cpu_core

# --------------------------------------------------------------------------- ranges

MAX_SEED = 2**31 - 1
K_BOUNDS = (1, 12)
RESTART_BOUNDS = (1, 64)
N_POINTS_BOUNDS = (1, 50_000)
NOISE_BOUNDS = (0.1, 3.0)
NOISE_STEP = 0.05
MAX_ITER_BOUNDS = (1, 1000)
TOL_OPTIONS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8)
SIGMA_OPTIONS = (1, 2, 3)
VIEW_OPTIONS = ("PCA", "Columns")
TAB_OPTIONS = ("Ellipses", "Animation", "Log-likelihood")
MAX_CLUSTERS = 12
MAX_COORDINATE = 1000.0
MAX_SIGMA = 100.0
MAX_ROTATION = 360.0
MAX_WEIGHT = 1000.0
MAX_PARAM_CHARS = 64
MAX_CLUSTERS_CHARS = 2000
MAX_FIT_COLUMNS = 16
DEFAULT_FIT_COLUMNS = 8
BIC_CHOICE = 0
BEST_RESTART = -1

CLUSTER_COLUMNS = ("x", "y", "sigma_x", "sigma_y", "rotation", "weight")
CLUSTER_LABELS = ("centre x", "centre y", "spread σx", "spread σy", "rotation (°)", "weight")
CLUSTER_LIMITS = (
    (-MAX_COORDINATE, MAX_COORDINATE),
    (-MAX_COORDINATE, MAX_COORDINATE),
    (0.0, MAX_SIGMA),
    (0.0, MAX_SIGMA),
    (-MAX_ROTATION, MAX_ROTATION),
    (0.0, MAX_WEIGHT),
)
PAGE_CONFIG: dict[str, Any] = {
    "page_title": "GMM Explorer",
    "page_icon": "🎯",
    "layout": "wide",
    "initial_sidebar_state": "expanded",
}


def preset_clusters(name: str) -> ClusterTable:
    """The cluster table of a gmm_core preset: rows ``(x, y, σx, σy, rotation, weight)``."""
    spec = PRESETS[name]
    return tuple(
        (float(cx), float(cy), float(sx), float(sy), float(rot), float(w))
        for (cx, cy), (sx, sy, rot), w in zip(spec.centers, spec.sigmas, spec.weights, strict=True)
    )


@dataclass(frozen=True)
class Defaults:
    """Default value of every setting (a link without parameters shows these)."""

    preset: str = DEFAULT_PRESET
    noise: float = 1.0
    n: int = 2000
    data_seed: int = 0
    k_range: tuple[int, int] = (1, 6)
    restarts: int = 8
    init: str = "k-means++"
    cov: str = "full"
    max_iter: int = 100
    tol: float = 1e-3
    init_seed: int = 0
    k: int = BIC_CHOICE
    restart: int = BEST_RESTART
    sigmas: tuple[int, ...] = SIGMA_OPTIONS
    view: str = "PCA"
    tab: str = "Ellipses"


DEFAULTS = Defaults()


# --------------------------------------------------------------------------- text helpers

_INT_TEXT = re.compile(r"[+-]?\d{1,18}")
_FLOAT_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?")


def format_number(value: float) -> str:
    """Shortest text for a number that reads back exactly: ``5.0 -> "5"``, ``0.25 -> "0.25"``."""
    number = float(value)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def format_tol(value: float) -> str:
    """Label of a tolerance option, e.g. ``"1e-03"`` (also its query-parameter text)."""
    return f"{value:.0e}"


def format_sigma(value: int) -> str:
    """Label of an ellipse radius option, e.g. ``"2"`` (also its query-parameter text)."""
    return str(value)


def format_k_choice(value: int) -> str:
    """Label of a K-chooser option: ``"BIC"`` for the BIC's choice, else the number."""
    return "BIC" if value == BIC_CHOICE else str(value)


def format_restart_choice(value: int) -> str:
    """Label of a restart-chooser option: ``"best"`` or the restart's index."""
    return "best" if value == BEST_RESTART else str(value)


def escape_markdown(text: str, max_chars: int = 40) -> str:
    """Make untrusted text inert in Streamlit Markdown: escape punctuation, cut it short."""
    text = text[:max_chars] + ("…" if len(text) > max_chars else "")
    out = []
    for char in text:
        if char.isprintable() and char.isascii() and not char.isalnum() and char != " ":
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        else:
            out.append("?")
    return "".join(out)


def _parse_int(text: str) -> int | None:
    text = text.strip()
    if _INT_TEXT.fullmatch(text):
        return int(text)
    if _FLOAT_TEXT.fullmatch(text):
        number = float(text)
        if math.isfinite(number) and number.is_integer() and abs(number) < 1e18:
            return int(number)
    return None


def _parse_float(text: str) -> float | None:
    text = text.strip()
    if not _FLOAT_TEXT.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class ParamResult:
    """Outcome of validating one query parameter.

    Attributes
    ----------
    value
        The value to use (the default when the given one was unusable).
    url
        The canonical query-parameter value to keep, or None to remove the parameter
        (the value is the default).
    note
        Why the given value was not used as-is, or None.
    """

    value: Any
    url: str | list[str] | None
    note: str | None = None


def _single(values: Sequence[str]) -> tuple[str | None, str | None]:
    """The one value of a single-valued parameter, or an explanation."""
    if len(values) != 1:
        return None, "given more than once"
    if len(values[0]) > MAX_PARAM_CHARS:
        return None, "too long"
    return values[0], None


@dataclass(frozen=True)
class IntParam:
    """An integer setting in ``[low, high]``; out-of-range values are clamped."""

    key: str
    default: int
    low: int
    high: int

    def canonical(self, value: int) -> str | None:
        return None if value == self.default else str(value)

    def parse(self, values: Sequence[str]) -> ParamResult:
        text, problem = _single(values)
        number = None if text is None else _parse_int(text)
        if number is None:
            reason = problem or "not a whole number"
            return ParamResult(self.default, None, f"{reason}; using {self.default}")
        if not self.low <= number <= self.high:
            clamped = min(max(number, self.low), self.high)
            note = f"outside {self.low}–{self.high}; using {clamped}"
            return ParamResult(clamped, self.canonical(clamped), note)
        return ParamResult(number, self.canonical(number))

    def check(self, value: object) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and (self.low <= value <= self.high)
        )


@dataclass(frozen=True)
class FloatParam:
    """A float setting in ``[low, high]`` on a grid of ``step``; clamped and snapped."""

    key: str
    default: float
    low: float
    high: float
    step: float

    def snap(self, value: float) -> float:
        clamped = min(max(value, self.low), self.high)
        steps = round((clamped - self.low) / self.step)
        return round(self.low + steps * self.step, 10)

    def canonical(self, value: float) -> str | None:
        return None if value == self.default else format_number(value)

    def parse(self, values: Sequence[str]) -> ParamResult:
        text, problem = _single(values)
        number = None if text is None else _parse_float(text)
        if number is None:
            reason = problem or "not a finite number"
            return ParamResult(self.default, None, f"{reason}; using {self.default:g}")
        snapped = self.snap(number)
        note = None
        if not self.low <= number <= self.high:
            note = f"outside {self.low:g}–{self.high:g}; using {snapped:g}"
        return ParamResult(snapped, self.canonical(snapped), note)

    def check(self, value: object) -> bool:
        return (
            isinstance(value, float)
            and math.isfinite(value)
            and self.low <= value <= self.high
            and self.snap(value) == value
        )


@dataclass(frozen=True)
class ChoiceParam:
    """One of a fixed list of options, written in the URL by its label."""

    key: str
    default: Any
    options: tuple[Any, ...]
    label: Callable[[Any], str] = str

    def canonical(self, value: Any) -> str | None:
        return None if value == self.default else self.label(value)

    def parse(self, values: Sequence[str]) -> ParamResult:
        text, problem = _single(values)
        by_label = {self.label(option): option for option in self.options}
        if text is None or text not in by_label:
            reason = problem or "not one of the choices"
            return ParamResult(self.default, None, f"{reason}; using {self.label(self.default)}")
        value = by_label[text]
        return ParamResult(value, self.canonical(value))

    def check(self, value: object) -> bool:
        return value in self.options


@dataclass(frozen=True)
class RangeParam:
    """An integer range ``(low, high)``, written as a repeated parameter; clamped and sorted."""

    key: str
    default: tuple[int, int]
    low: int
    high: int

    def canonical(self, value: tuple[int, int]) -> list[str] | None:
        return None if value == self.default else [str(value[0]), str(value[1])]

    def parse(self, values: Sequence[str]) -> ParamResult:
        default_text = f"{self.default[0]}–{self.default[1]}"
        if len(values) != 2 or any(len(text) > MAX_PARAM_CHARS for text in values):
            return ParamResult(self.default, None, f"needs two whole numbers; using {default_text}")
        numbers = [_parse_int(text) for text in values]
        if any(number is None for number in numbers):
            return ParamResult(self.default, None, f"not whole numbers; using {default_text}")
        ends = sorted(min(max(int(n), self.low), self.high) for n in numbers if n is not None)
        value = (ends[0], ends[1])
        note = None
        if ends != sorted(int(n) for n in numbers if n is not None):
            note = f"outside {self.low}–{self.high}; using {value[0]}–{value[1]}"
        return ParamResult(value, self.canonical(value), note)

    def check(self, value: object) -> bool:
        return (
            isinstance(value, tuple)
            and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            and self.low <= value[0] <= value[1] <= self.high
        )


@dataclass(frozen=True)
class MultiChoiceParam:
    """Any subset of a list of options, written as a repeated parameter of labels."""

    key: str
    default: tuple[Any, ...]
    options: tuple[Any, ...]
    label: Callable[[Any], str] = str

    def canonical(self, value: tuple[Any, ...]) -> list[str] | None:
        return None if value == self.default else [self.label(v) for v in value] or [""]

    def parse(self, values: Sequence[str]) -> ParamResult:
        by_label = {self.label(option): option for option in self.options}
        if len(values) > 2 * len(self.options) or any(len(v) > MAX_PARAM_CHARS for v in values):
            return ParamResult(self.default, None, "too many values; using the default")
        given = [text for text in values if text != ""]
        known = [text for text in given if text in by_label]
        chosen = tuple(option for option in self.options if self.label(option) in known)
        note = None
        if len(known) != len(given):
            note = "unknown choices left out"
        elif len(set(known)) != len(known):
            note = "repeated choices merged"
        if given and not chosen:
            return ParamResult(self.default, None, "no known choice; using the default")
        return ParamResult(chosen, self.canonical(chosen), note)

    def check(self, value: object) -> bool:
        return isinstance(value, tuple) and all(v in self.options for v in value)


PRESET = ChoiceParam("preset", DEFAULTS.preset, tuple(PRESETS))
NOISE = FloatParam("noise", DEFAULTS.noise, *NOISE_BOUNDS, NOISE_STEP)
N_POINTS = IntParam("n", DEFAULTS.n, *N_POINTS_BOUNDS)
DATA_SEED = IntParam("data_seed", DEFAULTS.data_seed, 0, MAX_SEED)
K_RANGE = RangeParam("k_range", DEFAULTS.k_range, *K_BOUNDS)
RESTARTS = IntParam("restarts", DEFAULTS.restarts, *RESTART_BOUNDS)
INIT = ChoiceParam("init", DEFAULTS.init, INIT_METHODS)
COVARIANCE = ChoiceParam("cov", DEFAULTS.cov, COVARIANCE_TYPES)
MAX_ITER = IntParam("max_iter", DEFAULTS.max_iter, *MAX_ITER_BOUNDS)
TOL = ChoiceParam("tol", DEFAULTS.tol, TOL_OPTIONS, format_tol)
INIT_SEED = IntParam("init_seed", DEFAULTS.init_seed, 0, MAX_SEED)
SIGMAS = MultiChoiceParam("sigmas", DEFAULTS.sigmas, SIGMA_OPTIONS, format_sigma)
VIEW = ChoiceParam("view", DEFAULTS.view, VIEW_OPTIONS)
TAB = ChoiceParam("tab", DEFAULTS.tab, TAB_OPTIONS)
CLUSTERS_KEY = "clusters"
K_KEY = "k"
RESTART_KEY = "restart"

SIDEBAR_PARAMS = (
    PRESET,
    NOISE,
    N_POINTS,
    DATA_SEED,
    K_RANGE,
    RESTARTS,
    INIT,
    COVARIANCE,
    MAX_ITER,
    TOL,
    INIT_SEED,
)
PAGE_PARAMS = (SIGMAS, VIEW, TAB)
QUERY_KEYS = (
    *(p.key for p in SIDEBAR_PARAMS),
    CLUSTERS_KEY,
    K_KEY,
    RESTART_KEY,
    *(p.key for p in PAGE_PARAMS),
)


def k_choice_param(k_range: tuple[int, int]) -> ChoiceParam:
    """The K chooser: the BIC's choice or any K of the range."""
    options = (BIC_CHOICE, *range(k_range[0], k_range[1] + 1))
    return ChoiceParam(K_KEY, BIC_CHOICE, options, format_k_choice)


def restart_choice_param(n_restarts: int) -> ChoiceParam:
    """The restart chooser: the best restart or any restart index."""
    options = (BEST_RESTART, *range(n_restarts))
    return ChoiceParam(RESTART_KEY, BEST_RESTART, options, format_restart_choice)


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
        numbers = [_parse_float(cell) for cell in cells]
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


def frame_rows(frame: pd.DataFrame) -> list[list[object]]:
    """Rows of an edited cluster table, in :data:`CLUSTER_COLUMNS` order."""
    columns = [frame.get(name) for name in CLUSTER_COLUMNS]
    n_rows = len(frame)
    return [
        [None if column is None else column.iloc[i] for column in columns] for i in range(n_rows)
    ]


# --------------------------------------------------------------------------- URL parsing


@dataclass(frozen=True)
class ParsedQuery:
    """Validated query parameters.

    Attributes
    ----------
    values
        A value for every key of :data:`QUERY_KEYS` except ``clusters``; defaults fill gaps.
    clusters
        The table from the ``clusters`` parameter, or None when absent or invalid.
    url
        The parameters to keep, canonical and without defaults.
    ignored
        One entry ``(key, reason)`` per parameter that was not used as given.
    """

    values: dict[str, Any]
    clusters: ClusterTable | None
    url: dict[str, str | list[str]]
    ignored: tuple[tuple[str, str], ...] = field(default=())


def _as_lists(raw: Mapping[str, object]) -> dict[str, list[str]]:
    lists: dict[str, list[str]] = {}
    for key, value in raw.items():
        if isinstance(value, str):
            lists[str(key)] = [value]
        elif isinstance(value, Sequence):
            lists[str(key)] = [str(v) for v in value]
        else:
            lists[str(key)] = [str(value)]
    return lists


def parse_query_params(raw: Mapping[str, object]) -> ParsedQuery:
    """Validate untrusted query parameters; never raises.

    Unknown keys are dropped; a repeated key (other than ``k_range`` and ``sigmas``),
    a wrong type or an unknown choice falls back to the default; out-of-range numbers
    are clamped. Each such case is reported in ``ignored``.

    Parameters
    ----------
    raw
        Query parameters as ``key -> value`` or ``key -> [values]`` (repeated keys).
    """
    params = _as_lists(raw)
    values: dict[str, Any] = {}
    url: dict[str, str | list[str]] = {}
    ignored: list[tuple[str, str]] = []

    def use(param: Any, given: list[str] | None) -> None:
        if given is None:
            values[param.key] = param.default
            return
        result = param.parse(given)
        values[param.key] = result.value
        if result.url is not None:
            url[param.key] = result.url
        if result.note is not None:
            ignored.append((param.key, result.note))

    for param in (*SIDEBAR_PARAMS, *PAGE_PARAMS):
        use(param, params.get(param.key))
    use(k_choice_param(values[K_RANGE.key]), params.get(K_KEY))
    use(restart_choice_param(values[RESTARTS.key]), params.get(RESTART_KEY))

    clusters: ClusterTable | None = None
    if CLUSTERS_KEY in params:
        given = params[CLUSTERS_KEY]
        if len(given) != 1:
            ignored.append((CLUSTERS_KEY, "given more than once; using the preset's clusters"))
        else:
            try:
                clusters = decode_clusters(given[0])
            except ValueError as error:
                ignored.append((CLUSTERS_KEY, f"{error}; using the preset's clusters"))
            else:
                if clusters != preset_clusters(values[PRESET.key]):
                    url[CLUSTERS_KEY] = encode_clusters(clusters)
    for key in params:
        if key not in QUERY_KEYS:
            ignored.append((key, "unknown setting"))
    return ParsedQuery(values, clusters, url, tuple(ignored))


def describe_ignored(ignored: Sequence[tuple[str, str]], limit: int = 8) -> str:
    """One Markdown-safe sentence listing the ignored parameters."""
    parts = [f"{escape_markdown(key)} ({reason})" for key, reason in ignored[:limit]]
    if len(ignored) > limit:
        parts.append(f"and {len(ignored) - limit} more")
    return "Some settings in the link were ignored: " + "; ".join(parts) + "."


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """The sidebar's settings, identical on every page.

    ``clusters`` is the validated cluster table, or ``()`` when the edited table is
    invalid; ``table_problems`` then says what to change.
    """

    preset: str
    clusters: ClusterTable
    noise: float
    n_points: int
    data_seed: int
    k_min: int
    k_max: int
    n_restarts: int
    init_method: str
    covariance_type: str
    max_iter: int
    tol: float
    init_seed: int
    table_problems: tuple[str, ...] = ()

    @property
    def data_key(self) -> DataKey:
        return DataKey(self.clusters, self.noise, self.n_points, self.data_seed)

    @property
    def fit_key(self) -> FitKey:
        return FitKey(
            self.k_min,
            self.k_max,
            self.n_restarts,
            self.init_method,
            self.covariance_type,
            self.max_iter,
            self.tol,
            self.init_seed,
        )

    @property
    def true_k(self) -> int:
        """Clusters with a positive weight."""
        return sum(1 for row in self.clusters if row[5] > 0)

    def fit_problems(self, n_points: int) -> list[str]:
        """What to change so the sweep can run on ``n_points`` points."""
        if n_points < self.k_max:
            points = "point" if n_points == 1 else "points"
            return [
                f"Only {n_points} {points} but the K range goes up to {self.k_max}: "
                f"lower the largest K to at most {max(n_points, 1)} or use more points."
            ]
        return []

    def synthetic_problems(self) -> list[str]:
        """What to change before the synthetic data can be drawn and fitted."""
        return [*self.table_problems, *self.fit_problems(self.n_points)]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready settings (for downloads)."""
        return {
            "preset": self.preset,
            "clusters": [list(row) for row in self.clusters],
            "noise": self.noise,
            "n_points": self.n_points,
            "data_seed": self.data_seed,
            "k_range": [self.k_min, self.k_max],
            "n_restarts": self.n_restarts,
            "init_method": self.init_method,
            "covariance_type": self.covariance_type,
            "max_iter": self.max_iter,
            "tol": self.tol,
            "init_seed": self.init_seed,
        }


def settings_from_values(
    values: Mapping[str, Any], clusters: ClusterTable, table_problems: Sequence[str] = ()
) -> Settings:
    """Build :class:`Settings` from widget values keyed by query-parameter name."""
    k_min, k_max = values[K_RANGE.key]
    return Settings(
        preset=values[PRESET.key],
        clusters=clusters,
        noise=float(values[NOISE.key]),
        n_points=int(values[N_POINTS.key]),
        data_seed=int(values[DATA_SEED.key]),
        k_min=int(k_min),
        k_max=int(k_max),
        n_restarts=int(values[RESTARTS.key]),
        init_method=values[INIT.key],
        covariance_type=values[COVARIANCE.key],
        max_iter=int(values[MAX_ITER.key]),
        tol=float(values[TOL.key]),
        init_seed=int(values[INIT_SEED.key]),
        table_problems=tuple(table_problems),
    )


# --------------------------------------------------------------------------- widgets

SETTINGS_STATE = "settings"
_URL_CHECKED = "_url_checked"
_URL_IGNORED = "_url_ignored"
_URL_CLUSTERS = "_url_clusters"
_BASE_TABLE = "_cluster_base"
_WRITTEN_CLUSTERS = "_clusters_written"
TABLE_EDITOR_KEY = "cluster_table"
_SIDEBAR_DRAWN = "_sidebar_drawn"


def _raw_query_params() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in st.query_params}


def _sanitize_url_once() -> None:
    """On a session's first run, validate the URL before any widget reads it.

    Invalid parameters are removed or rewritten, then the script reruns so the
    widgets seed from the cleaned URL; the next run shows one warning.
    """
    if st.session_state.get(_URL_CHECKED):
        return
    st.session_state[_URL_CHECKED] = True
    parsed = parse_query_params(_raw_query_params())
    st.session_state[_URL_CLUSTERS] = parsed.clusters
    if not parsed.ignored:
        return
    st.session_state[_URL_IGNORED] = parsed.ignored
    st.query_params.from_dict(parsed.url)
    st.rerun()


def _new_seed(key: str) -> None:
    current = st.session_state.get(key)
    seed = secrets.randbelow(MAX_SEED + 1)
    while seed == current:
        seed = secrets.randbelow(MAX_SEED + 1)
    st.session_state[key] = seed


def _on_preset_change() -> None:
    """A new preset: its clusters and K range, edits discarded."""
    name = st.session_state[PRESET.key]
    st.session_state[_BASE_TABLE] = preset_clusters(name)
    st.session_state.pop(TABLE_EDITOR_KEY, None)
    st.session_state[K_RANGE.key] = PRESETS[name].k_range


def _cluster_editor(preset: str) -> tuple[ClusterTable, list[str]]:
    """The editable cluster table; returns the validated table and its problems."""
    if _BASE_TABLE not in st.session_state:
        from_url = st.session_state.get(_URL_CLUSTERS)
        st.session_state[_BASE_TABLE] = from_url or preset_clusters(preset)
    column_config = {
        name: st.column_config.NumberColumn(
            label, format="%.3g", required=True, min_value=low, max_value=high
        )
        for name, label, (low, high) in zip(
            CLUSTER_COLUMNS, CLUSTER_LABELS, CLUSTER_LIMITS, strict=True
        )
    }
    edited = st.data_editor(
        clusters_frame(st.session_state[_BASE_TABLE]),
        key=TABLE_EDITOR_KEY,
        num_rows="dynamic",
        hide_index=True,
        column_config=column_config,
        width="stretch",
    )
    table, problems = validate_cluster_rows(frame_rows(edited))
    if problems:
        st.caption(":red[The table has problems; see the message on the page.]")
    else:
        wanted = None if table == preset_clusters(preset) else encode_clusters(table)
        current = st.query_params.get(CLUSTERS_KEY)
        if wanted != current:
            if wanted is None:
                del st.query_params[CLUSTERS_KEY]
            else:
                st.query_params[CLUSTERS_KEY] = wanted
    return table, problems


def render_sidebar() -> Settings:
    """Validate the URL, draw the shared sidebar and store the settings in session state.

    Called by ``app.py`` on every run before the page, so every page sees the same
    :class:`Settings` (see :func:`current_settings`).
    """
    _sanitize_url_once()
    ignored = st.session_state.pop(_URL_IGNORED, None)
    if ignored:
        st.warning(describe_ignored(ignored), icon="⚠️")
    bind: Any = "query-params"
    values: dict[str, Any] = {}
    with st.sidebar:
        st.header("Data")
        values[PRESET.key] = st.selectbox(
            "Preset",
            PRESET.options,
            index=PRESET.options.index(PRESET.default),
            key=PRESET.key,
            bind=bind,
            on_change=_on_preset_change,
            help="A gmm_core teaching data set; picking one resets the cluster table.",
        )
        st.caption(PRESETS[values[PRESET.key]].description)
        with st.expander("True clusters", expanded=False):
            table, problems = _cluster_editor(values[PRESET.key])
        values[NOISE.key] = st.slider(
            "Noise (multiplies every σ)",
            NOISE.low,
            NOISE.high,
            NOISE.default,
            NOISE.step,
            key=NOISE.key,
            bind=bind,
        )
        values[N_POINTS.key] = st.number_input(
            "Number of points",
            N_POINTS.low,
            N_POINTS.high,
            N_POINTS.default,
            step=100,
            key=N_POINTS.key,
            bind=bind,
        )
        values[DATA_SEED.key] = st.number_input(
            "Data seed", 0, MAX_SEED, DATA_SEED.default, key=DATA_SEED.key, bind=bind
        )
        st.button(
            "New data",
            key="new_data",
            on_click=_new_seed,
            args=(DATA_SEED.key,),
            icon="🎲",
            help="Draw a new data seed; the fit settings stay.",
        )

        st.header("Fit")
        values[K_RANGE.key] = st.slider(
            "K range", K_RANGE.low, K_RANGE.high, K_RANGE.default, key=K_RANGE.key, bind=bind
        )
        values[RESTARTS.key] = st.slider(
            "Restarts per K",
            RESTARTS.low,
            RESTARTS.high,
            RESTARTS.default,
            key=RESTARTS.key,
            bind=bind,
        )
        values[INIT.key] = st.selectbox(
            "Initialisation",
            INIT.options,
            index=INIT.options.index(INIT.default),
            key=INIT.key,
            bind=bind,
        )
        values[COVARIANCE.key] = st.selectbox(
            "Covariance type",
            COVARIANCE.options,
            index=COVARIANCE.options.index(COVARIANCE.default),
            key=COVARIANCE.key,
            bind=bind,
        )
        values[MAX_ITER.key] = st.number_input(
            "max_iter",
            MAX_ITER.low,
            MAX_ITER.high,
            MAX_ITER.default,
            step=10,
            key=MAX_ITER.key,
            bind=bind,
        )
        values[TOL.key] = st.select_slider(
            "tol (change in mean log-likelihood)",
            TOL.options,
            TOL.default,
            format_func=format_tol,
            key=TOL.key,
            bind=bind,
        )
        values[INIT_SEED.key] = st.number_input(
            "Init seed", 0, MAX_SEED, INIT_SEED.default, key=INIT_SEED.key, bind=bind
        )
        st.button(
            "New initialisations",
            key="new_init",
            on_click=_new_seed,
            args=(INIT_SEED.key,),
            icon="🔁",
            help="Draw a new init seed and keep the data.",
        )
        st.caption("Every setting is kept in the page address: copy it to share this view.")
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


def show_problems(problems: Sequence[str]) -> bool:
    """Show each problem as an error; True when there were none."""
    for problem in problems:
        st.error(problem, icon="🚫")
    return not problems


# --------------------------------------------------------------------------- page widgets


def k_chooser(k_values: Sequence[int], bic_k: int, *, label: str = "K") -> int:
    """Select K (default: the BIC's choice); returns the K to show."""
    param = k_choice_param((int(k_values[0]), int(k_values[-1])))
    choice = st.selectbox(
        label,
        param.options,
        format_func=format_k_choice,
        key=K_KEY,
        bind="query-params",
        help=f"BIC picks K = {bic_k} (lowest BIC of the best restart).",
    )
    return bic_k if choice == BIC_CHOICE else int(choice)


def restart_chooser(n_restarts: int, best: int) -> int:
    """Select a restart (default: the best one); returns its index."""
    param = restart_choice_param(n_restarts)
    choice = st.selectbox(
        "Restart",
        param.options,
        format_func=format_restart_choice,
        key=RESTART_KEY,
        bind="query-params",
        help=f"The best restart (highest final log-likelihood) is #{best}.",
    )
    return best if choice == BEST_RESTART else int(choice)


def sigma_chooser() -> tuple[float, ...]:
    """Which confidence ellipses to draw (1σ, 2σ, 3σ); none picked draws none."""
    chosen = st.multiselect(
        "Ellipses at n σ",
        SIGMAS.options,
        default=list(SIGMAS.default),
        format_func=format_sigma,
        key=SIGMAS.key,
        bind="query-params",
    )
    if not chosen:
        st.caption("No radius picked: only the means are drawn.")
    return tuple(float(s) for s in sorted(chosen))


def view_chooser() -> str:
    """Plot two chosen columns or the first two principal components."""
    return st.selectbox(
        "Plot axes",
        VIEW.options,
        index=VIEW.options.index(VIEW.default),
        key=VIEW.key,
        bind="query-params",
        help="PCA: the first two principal components; Columns: two columns you choose.",
    )


def figure_block(name: str, build: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Build a Plotly figure and show it with a download button for it as standalone HTML.

    A figure that cannot be drawn (the builder raises ``ValueError``, e.g. for a
    degenerate fit) becomes a warning instead of a traceback. Returns the figure or None.
    """
    try:
        figure = build(*args, **kwargs)
    except ValueError as error:
        st.warning(f"This figure could not be drawn: {escape_markdown(str(error), 300)}")
        return None
    st.plotly_chart(figure, theme=None, key=f"chart_{name}")
    st.download_button(
        "Download figure (HTML)",
        data=functools.partial(figures.to_html, figure),
        file_name=f"{name}.html",
        mime="text/html",
        key=f"download_{name}",
        on_click="ignore",
        icon="⬇️",
    )
    return figure


def data_download(points: np.ndarray, labels: np.ndarray | None, name: str) -> None:
    """A download button for the data set as CSV."""
    st.download_button(
        "Download data (CSV)",
        data=functools.partial(compute.dataset_csv, points, labels),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"download_{name}_csv",
        on_click="ignore",
        icon="⬇️",
    )


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
    st.download_button(
        "Download settings and link (JSON)",
        data=functools.partial(compute.settings_json, dict(export), query, share_link()),
        file_name=f"{name}_settings.json",
        mime="application/json",
        key=f"download_{name}_settings",
        on_click="ignore",
        icon="⬇️",
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


# --------------------------------------------------------------------------- start-up

_STARTED: dict[str, Path | None] = {}


def startup() -> Path | None:
    """Once per process: one JAX device per CPU core and the persistent compilation cache.

    The devices take effect only if JAX has not started yet (true for a fresh server);
    the cache directory comes from ``GMM_COMPILATION_CACHE`` (empty: off), see
    :mod:`gmm_core.compilation_cache`. Returns the directory, or None when off.
    """
    if "cache" not in _STARTED:
        use_every_cpu_core()
        _STARTED["cache"] = enable_compilation_cache()
    return _STARTED["cache"]


# --------------------------------------------------------------------------- work budget

_CONFIRMED = "_confirmed_sweeps"
MAX_CONFIRMATIONS = 8


@dataclass(frozen=True)
class Knob:
    """A setting that lowers a sweep's cost: its label, current value and lowest value."""

    label: str
    value: int
    low: int


def _largest_fitting(
    knob: Knob, estimate_at: Callable[[int], WorkEstimate], fits: Callable[[WorkEstimate], bool]
) -> int | None:
    """The largest value in ``[low, value)`` whose estimate ``fits``, or None."""
    low, high = knob.low, knob.value - 1
    if high < low or not fits(estimate_at(low)):
        return None
    while low < high:  # the cost grows with every knob
        middle = (low + high + 1) // 2
        if fits(estimate_at(middle)):
            low = middle
        else:
            high = middle - 1
    return low


def budget_suggestions(
    knobs: Mapping[str, Knob],
    estimate_with: Callable[[str, int], WorkEstimate],
    fits: Callable[[WorkEstimate], bool],
) -> list[str]:
    """``"Restarts per K to at most 9"`` for every knob that alone brings the cost within
    ``fits``."""
    found = []
    for name, knob in knobs.items():
        value = _largest_fitting(knob, functools.partial(estimate_with, name), fits)
        if value is not None:
            found.append(f"{knob.label} to at most {value:,}")
    return found


def _confirm(token: Hashable) -> None:
    confirmed = [t for t in st.session_state.get(_CONFIRMED, []) if t != token]
    st.session_state[_CONFIRMED] = [*confirmed, token][-MAX_CONFIRMATIONS:]


def budget_gate(
    estimate: WorkEstimate,
    *,
    token: Hashable,
    name: str,
    what: str,
    knobs: Mapping[str, Knob],
    estimate_with: Callable[[str, int], WorkEstimate],
    hint: str = "",
) -> bool:
    """Check a sweep's estimated cost before it runs; True when it may run now.

    Above a hard limit (:func:`gmm_core.budget.verdict` says ``"refuse"``) an error
    names the settings to lower and the estimate; between the confirmation threshold
    and the limit a warning shows the estimate with a "Run this large sweep" button,
    and the sweep runs once the user has pressed it (remembered per ``token``).
    """
    available = budget.available_memory_bytes()
    verdict = budget.verdict(estimate, available)
    if verdict == "run":
        return True
    cost = (
        f"{compute.format_seconds(estimate.seconds)} and "
        f"{compute.format_bytes(estimate.peak_bytes)} of memory"
    )
    if verdict == "refuse":
        limit_memory = compute.format_bytes(budget.memory_limit_bytes(available))
        limit_time = f"{budget.REFUSE_ABOVE_SECONDS / 60:g} min"
        lower = budget_suggestions(
            knobs, estimate_with, lambda e: budget.verdict(e, available) != "refuse"
        )
        advice = (
            "Lower one of these settings: " + "; ".join(lower) + "."
            if lower
            else "Lower several of: " + ", ".join(k.label for k in knobs.values()) + "."
        )
        st.error(
            f"{what} is too large to run here: estimated {cost}, over the limits of "
            f"{limit_time} and {limit_memory}. {advice}{hint}",
            icon="🛑",
        )
        return False
    if token in st.session_state.get(_CONFIRMED, []):
        return True
    lower = budget_suggestions(
        knobs, estimate_with, lambda e: budget.verdict(e, available) == "run"
    )
    skip = f" Or lower {lower[0]} to run it without asking." if lower else ""
    st.warning(
        f"{what} is large: estimated {cost} (an upper bound: fits that converge early "
        f"take less). Press “Run this large sweep” to run it.{skip}",
        icon="⏳",
    )
    st.button(
        "Run this large sweep",
        key=f"confirm_{name}",
        on_click=_confirm,
        args=(token,),
        type="primary",
    )
    return False


def _fit_knobs(settings: Settings) -> dict[str, Knob]:
    return {
        "n_restarts": Knob("Restarts per K", settings.n_restarts, RESTARTS.low),
        "max_iter": Knob("max_iter", settings.max_iter, MAX_ITER.low),
        "k_max": Knob("the largest K of the K range", settings.k_max, settings.k_min),
    }


def synthetic_fit_or_stop(
    settings: Settings, *, name: str
) -> tuple[np.ndarray, np.ndarray, gmm_core.SweepResult]:
    """A fit page's common start: the synthetic data and its sweep, or stop the page.

    Invalid settings stop with their errors; a sweep that did not run (budget,
    confirmation, error) stops after offering the data and settings for download.

    Returns
    -------
    points (N, 2), true labels (N,), the sweep result.
    """
    if not show_problems(settings.synthetic_problems()):
        st.stop()
    points, labels = compute.synthetic_data(settings.data_key)
    result = synthetic_sweep(settings, name=name)
    if result is None:
        data_and_settings_downloads(points, labels, settings.as_dict(), "gmm_explorer")
        st.stop()
    return points, labels, result


def synthetic_sweep(settings: Settings, *, name: str) -> gmm_core.SweepResult | None:
    """The page's sweep on the synthetic data, after the budget check; None if it did not run.

    Every reason for not running is shown on the page (budget, confirmation, errors).
    """
    data, fit = settings.data_key, settings.fit_key

    def estimate_with(knob: str, value: int) -> WorkEstimate:
        if knob == "n_points":
            return compute.estimate_synthetic(data._replace(n_points=value), fit)
        return compute.estimate_synthetic(data, fit._replace(**{knob: value}))

    knobs = {
        "n_points": Knob("Number of points", settings.n_points, settings.k_max),
        **_fit_knobs(settings),
    }
    estimate = compute.estimate_synthetic(data, fit)
    if not budget_gate(
        estimate,
        token=("synthetic", data, fit),
        name=name,
        what="This sweep",
        knobs=knobs,
        estimate_with=estimate_with,
    ):
        return None
    return _timed(compute.sweep_synthetic, data, fit, estimate=estimate)


def uploaded_sweep(
    raw: bytes, columns: tuple[str, ...], n_rows: int, settings: Settings, *, name: str
) -> gmm_core.SweepResult | None:
    """The sweep on an upload's chosen columns, after the budget check; None if it did not run."""
    fit = settings.fit_key
    digest = compute.upload_digest(raw)

    def estimate_with(knob: str, value: int) -> WorkEstimate:
        if knob == "n_columns":
            return compute.estimate_uploaded(digest, columns[:value], fit, n_rows)
        return compute.estimate_uploaded(digest, columns, fit._replace(**{knob: value}), n_rows)

    knobs = {
        **_fit_knobs(settings),
        "n_columns": Knob("the number of columns to fit", len(columns), 2),
    }
    estimate = compute.estimate_uploaded(digest, columns, fit, n_rows)
    if not budget_gate(
        estimate,
        token=("upload", digest, columns, fit),
        name=name,
        what=f"The sweep of {n_rows:,} rows",
        knobs=knobs,
        estimate_with=estimate_with,
        hint=" Or upload a sample of the rows.",
    ):
        return None
    sweep = functools.partial(compute.sweep_uploaded, digest=digest)
    return _timed(sweep, raw, columns, fit, estimate=estimate)


def _timed(
    sweep: Callable[..., gmm_core.SweepResult], *args: Any, estimate: WorkEstimate
) -> gmm_core.SweepResult | None:
    try:
        return compute.timed_sweep(sweep, *args, estimate=estimate)
    except ValueError as error:
        show_problems([f"The sweep could not run: {escape_markdown(str(error), 300)}"])
        return None


def init_comparison(settings: Settings, k: int) -> compute.InitComparison | None:
    """Every init method on the page's data for K, after its own budget check."""
    data, fit = settings.data_key, settings.fit_key

    def estimate_with(knob: str, value: int) -> WorkEstimate:
        if knob == "n_points":
            return compute.estimate_comparison(data._replace(n_points=value), fit)
        return compute.estimate_comparison(data, fit._replace(**{knob: value}))

    knobs = {
        "n_points": Knob("Number of points", settings.n_points, settings.k_max),
        **_fit_knobs(settings),
    }
    estimate = compute.estimate_comparison(data, fit)
    if not budget_gate(
        estimate,
        token=("comparison", data, fit),
        name="init_comparison",
        what="Comparing every init method",
        knobs=knobs,
        estimate_with=estimate_with,
    ):
        return None
    bar = compute.ProgressBar(estimate)
    try:
        with st.status("Fitting with every init method…", expanded=False) as status:
            try:
                comparison = compute.compare_inits(data, fit, k, _progress=bar)
            except (ValueError, MemoryError, RuntimeError) as error:
                status.update(label="The comparison could not run", state="error")
                show_problems([f"The comparison could not run: {escape_markdown(str(error), 300)}"])
                return None
            status.update(label=compute.comparison_label(comparison), state="complete")
    finally:
        bar.close()
    return comparison


def upload_data_download(parsed: ParsedUpload, name: str) -> None:
    """The cleaned table: every numeric column, incomplete rows dropped."""
    st.download_button(
        "Download cleaned data (CSV)",
        data=functools.partial(to_csv_bytes, parsed.data),
        file_name=f"{name}_clean.csv",
        mime="text/csv",
        key=f"download_{name}_csv",
        on_click="ignore",
        icon="⬇️",
    )


def _project(axes: np.ndarray | None) -> tuple[Callable, Callable]:
    """Functions taking means (..., D) and covariances (..., D, D) to the plotted plane."""
    if axes is None:
        return (lambda means: means), (lambda covariances: covariances)
    return (
        functools.partial(geometry.project_means, axes=axes),
        functools.partial(geometry.project_covariance, axes=axes),
    )


@st.fragment
def fit_explorer(
    points: np.ndarray,
    result: gmm_core.SweepResult,
    *,
    name: str,
    export: Mapping[str, Any],
    truth: compute.Truth | None = None,
    true_labels: np.ndarray | None = None,
    axes: np.ndarray | None = None,
    columns: Sequence[str] | None = None,
) -> None:
    """The Explore views of a sweep: choosers, readouts, ellipses, animation, log-likelihood.

    Runs as a fragment, so changing K, the restart or the ellipses redraws only this
    part of the page; the sweep itself comes from the cache and is never refitted.

    Parameters
    ----------
    points : (N, D) the fitted data
    result : the sweep
    name : prefix of widget keys and file names
    export : settings written into the JSON download
    truth, true_labels : the generating mixture and labels (synthetic data only)
    axes : (2, D) projection to the plotted plane, or None when D == 2
    columns : names of the fitted columns (uploaded data)
    """
    bic_k = result.best_k("bic")
    choose_k, choose_restart, choose_sigmas = st.columns(3)
    with choose_k:
        k = k_chooser(result.k_values.tolist(), bic_k)
    row = result.k_index(k)
    best = int(result.best_restart()[row])
    with choose_restart:
        restart = restart_chooser(result.n_restarts, best)
    with choose_sigmas:
        sigmas = sigma_chooser()
    fit = compute.fit_view(result, k, restart)
    to_plane, covariance_to_plane = _project(axes)
    plane_points = to_plane(points)
    means, covariances = to_plane(fit.means), covariance_to_plane(fit.covariances)
    true_means = None if truth is None else truth.means
    true_covariances = None if truth is None else truth.covariances
    colors = figures.component_colors_from_matching(true_means, means, fit.weights)

    metrics = st.columns(5)
    metrics[0].metric(
        "Final log-likelihood / point", format_metric(fit.final_log_likelihood, ".4f")
    )
    metrics[1].metric("Iterations", fit.n_iter)
    metrics[2].metric("Converged", "yes" if fit.converged else "no")
    if true_labels is not None:
        score = compute.ari(true_labels, points, fit)
        metrics[3].metric("ARI vs truth", "—" if math.isnan(score) else f"{score:.3f}")
    else:
        metrics[3].metric("ARI vs truth", "—", help="No true labels for uploaded data.")
    metrics[4].metric("K chosen by BIC", bic_k)
    if truth is None:
        st.caption(f"Showing K = {k}, restart {restart} (best restart: {best}).")
    else:
        st.caption(
            f"Showing K = {k}, restart {restart} (best restart: {best}). "
            "Fitted ellipses are solid, true ones dashed; colours follow the Hungarian "
            "matching of fitted components to true clusters."
        )

    movie = compute.animation(result, k, restart)
    ellipses_tab, animation_tab, likelihood_tab = st.tabs(
        list(TAB.options), default=TAB.default, key=TAB.key, bind="query-params"
    )
    # Only the open tab's figure is built (the tabs are bound, so they track state).
    if ellipses_tab.open:
        with ellipses_tab:
            figure_block(
                f"{name}_ellipses",
                figures.ellipse_figure,
                plane_points,
                labels=true_labels,
                true_means=true_means,
                true_covariances=true_covariances,
                means=means,
                covariances=covariances,
                weights=fit.weights,
                initial_means=to_plane(fit.initial_means),
                component_colors=colors,
                n_sigmas=sigmas,
                title=f"K = {k}, restart {restart}",
            )
    if animation_tab.open:
        with animation_tab:
            figure_block(
                f"{name}_animation",
                figures.fit_animation_figure,
                plane_points,
                labels=true_labels,
                true_means=true_means,
                true_covariances=true_covariances,
                snapshot_iterations=movie.iterations,
                snapshot_weights=movie.weights,
                snapshot_means=to_plane(movie.means),
                snapshot_covariances=covariance_to_plane(movie.covariances),
                initial_means=to_plane(fit.initial_means),
                traces=movie.traces,
                highlighted_restart=restart,
                component_colors=colors,
                n_sigmas=sigmas,
                title=f"EM iterations, K = {k}, restart {restart}",
            )
    if likelihood_tab.open:
        with likelihood_tab:
            figure_block(
                f"{name}_log_likelihood",
                figures.log_likelihood_figure,
                movie.traces,
                n_iter=movie.n_iter,
                highlighted_restart=restart,
                title=f"Log-likelihood of every restart, K = {k}",
            )
    # In the fragment, so that both follow the K, restart and radii chosen here.
    left, right = st.columns(2)
    with left:
        st.download_button(
            "Download fitted parameters (JSON)",
            data=functools.partial(
                compute.fit_json, result, fit, settings=dict(export), columns=columns
            ),
            file_name=f"{name}_fit_k{k}_restart{restart}.json",
            mime="application/json",
            key=f"download_{name}_json",
            on_click="ignore",
            icon="⬇️",
        )
    with right:
        settings_download(export, name)


def sweep_downloads(
    result: gmm_core.SweepResult,
    points: np.ndarray,
    labels: np.ndarray | None,
    export: Mapping[str, Any],
    *,
    name: str = "gmm_explorer",
) -> None:
    """Download buttons for the fitted parameters (BIC's K, best restart) and the data."""
    k = result.best_k("bic")
    fit = compute.fit_view(result, k, int(result.best_restart()[result.k_index(k)]))
    left, middle, right = st.columns(3)
    with left:
        st.download_button(
            "Download fitted parameters (JSON)",
            data=functools.partial(compute.fit_json, result, fit, settings=dict(export)),
            file_name=f"{name}_fit.json",
            mime="application/json",
            key=f"download_{name}_json",
            on_click="ignore",
            icon="⬇️",
        )
    with middle:
        data_download(points, labels, f"{name}_data")
    with right:
        settings_download(export, name)


# --------------------------------------------------------------------------- uploaded data


def upload_summary(parsed: ParsedUpload) -> None:
    """Rows read and dropped, numeric and ignored columns, and the parser's notes."""
    read, dropped, numeric, ignored = st.columns(4)
    read.metric("Rows read", f"{parsed.n_rows_read:,}")
    dropped.metric(
        "Rows dropped",
        f"{parsed.n_rows_dropped:,}",
        help="Rows with a missing or non-finite value.",
    )
    numeric.metric("Numeric columns", len(parsed.numeric_columns))
    ignored.metric("Ignored columns", len(parsed.ignored_columns))
    with st.expander("How the file was read", expanded=False):
        names = ", ".join(escape_markdown(name) for name in parsed.numeric_columns)
        st.markdown(f"**Numeric columns:** {names}")
        if parsed.ignored_columns:
            ignored_names = ", ".join(escape_markdown(name) for name in parsed.ignored_columns)
            st.markdown(f"**Ignored columns:** {ignored_names}")
        for note in parsed.notes:
            st.markdown(f"- {escape_markdown(note, max_chars=300)}")


def column_picker(parsed: ParsedUpload) -> tuple[str, ...]:
    """The numeric columns to fit (the fit runs in all of them)."""
    chosen = st.multiselect(
        "Columns to fit",
        parsed.numeric_columns,
        default=list(parsed.numeric_columns[:DEFAULT_FIT_COLUMNS]),
        max_selections=MAX_FIT_COLUMNS,
        key="upload_columns",
        help=f"The fit uses every chosen column (at most {MAX_FIT_COLUMNS}).",
    )
    return tuple(name for name in parsed.numeric_columns if name in chosen)


def upload_problems(parsed: ParsedUpload, columns: Sequence[str], settings: Settings) -> list[str]:
    """What to change before an uploaded table can be fitted and drawn."""
    if len(parsed.numeric_columns) < 2:
        return [
            "The file has only one numeric column; the fit and its plots need at least two. "
            "Add a numeric column and upload again."
        ]
    if len(columns) < 2:
        return ["Pick at least two numeric columns to fit."]
    return settings.fit_problems(parsed.n_rows)


def plot_axes(points: np.ndarray, columns: Sequence[str]) -> np.ndarray:
    """Choose the plotted plane: the first two principal components or two columns.

    Returns
    -------
    np.ndarray, shape (2, D)
        The projection from the fitted space to the plotted plane.
    """
    view = view_chooser()
    if view == "PCA":
        if points.shape[0] < 2:
            return np.eye(points.shape[1])[:2]
        axes = geometry.principal_axes(points, 2)
        st.caption("Plotted: the first two principal components of the chosen columns.")
        return axes
    left, right = st.columns(2)
    x_name = left.selectbox("x axis", columns, index=0, key="upload_x")
    y_name = right.selectbox("y axis", columns, index=1, key="upload_y")
    return np.eye(len(columns))[[list(columns).index(x_name), list(columns).index(y_name)]]
