"""URL-bound parameters: their ranges, defaults and the validation of what the URL says.

Every sidebar and page control is bound to the URL with ``bind="query-params"``; its key
is its query-parameter name. Each parameter type here parses untrusted query text into
a value (clamped, snapped or replaced by the default) and writes the canonical text back.

Pure: no Streamlit. Must not import any other ``gmm_app`` module.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gmm_core import COVARIANCE_TYPES, INIT_METHODS, PRESETS, SHIPPED
from gmm_core.geometry import coverage_of_radius, radius_of_coverage

# --------------------------------------------------------------------------- ranges

MAX_SEED = 2**31 - 1
K_BOUNDS = (1, 12)
RESTART_BOUNDS = (1, 64)
N_POINTS_BOUNDS = (1, 50_000)
NOISE_BOUNDS = (0.1, 3.0)
NOISE_STEP = 0.05
MAX_ITER_BOUNDS = (1, 1000)
TOL_OPTIONS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8)
REG_COVAR_OPTIONS = (*(10.0**-e for e in range(1, 11)), 0.0)
"""``reg_covar`` from large to none: the slider walks a component towards collapse."""
COVERAGE_LEVELS = (0.5, 0.9, 0.95)
"""Ellipses chosen by the probability they hold in 2-D (their radius in σ follows)."""
SIGMA_OPTIONS = (1.0, 2.0, 3.0, *(radius_of_coverage(p) for p in COVERAGE_LEVELS))
VIEW_OPTIONS = ("PCA", "Columns")
TAB_OPTIONS = ("Animation", "Step", "Panels", "Ellipses", "Log-likelihood")
MAX_PANELS = 10

MAX_PARAM_CHARS = 64

BIC_CHOICE = 0
BEST_RESTART = -1


# The app opens on data where EM visibly works: random responsibilities (every component
# starts near the data mean, a meaning the init rework keeps) on one big and two small
# clusters take ~24 iterations to move out, and 2 of 8 restarts end in a worse optimum
# (measured with scripts/measure_defaults.py). The easy four_blobs stays a preset.
APP_PRESET = "unequal_weights"


@dataclass(frozen=True)
class Defaults:
    """Default value of every setting (a link without parameters shows these)."""

    preset: str = APP_PRESET
    noise: float = 1.0
    n: int = 2000
    data_seed: int = 0
    k_range: tuple[int, int] = (1, 6)
    restarts: int = 8
    init: str = "random"
    cov: str = "full"
    max_iter: int = 100
    tol: float = 1e-3
    reg_covar: float = 1e-6
    init_seed: int = 0
    k: int = BIC_CHOICE
    restart: int = BEST_RESTART
    sigmas: tuple[float, ...] = SIGMA_OPTIONS[:3]
    view: str = "PCA"
    tab: str = "Animation"
    panels: tuple[int, ...] = (0, 1, 2, 5, 20)  # the textbook figure's iterations


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


def format_reg_covar(value: float) -> str:
    """Label of a ``reg_covar`` option, e.g. ``"1e-06"``, or ``"0"`` (also its URL text)."""
    return "0" if value == 0 else f"{value:.0e}"


def format_sigma(value: float) -> str:
    """Label of an ellipse, named by the probability it holds in 2-D (also its URL text).

    ``"39.3% (1σ)"``, ``"86.5% (2σ)"``, ``"98.9% (3σ)"``, or ``"90% (2.15σ)"`` for the
    ellipses chosen by their coverage.
    """
    if float(value).is_integer():
        return f"{coverage_of_radius(value):.1%} ({int(value)}σ)"
    return f"{coverage_of_radius(value):.0%} ({value:.2f}σ)"


def format_k_choice(value: int) -> str:
    """Label of a K-chooser option: ``"BIC"`` for the BIC's choice, else the number."""
    return "BIC" if value == BIC_CHOICE else str(value)


def format_restart_choice(value: int) -> str:
    """Label of a restart-chooser option: ``"best"`` or the restart's index."""
    return "best" if value == BEST_RESTART else str(value)


def parse_int(text: str) -> int | None:
    text = text.strip()
    if _INT_TEXT.fullmatch(text):
        return int(text)
    if _FLOAT_TEXT.fullmatch(text):
        number = float(text)
        if math.isfinite(number) and number.is_integer() and abs(number) < 1e18:
            return int(number)
    return None


def parse_float(text: str) -> float | None:
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
        number = None if text is None else parse_int(text)
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
        number = None if text is None else parse_float(text)
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
class LogChoiceParam(ChoiceParam):
    """One of a fixed list of numbers; the URL may give its label or any text of it.

    ``reg_covar=1e-5``, ``reg_covar=0.00001`` and ``reg_covar=1e-05`` all pick 1e-05;
    a number that is not an option falls back to the default with a note.
    """

    def parse(self, values: Sequence[str]) -> ParamResult:
        text, problem = _single(values)
        number = None if text is None else parse_float(text)
        for option in self.options:
            if number is not None and math.isclose(number, option, rel_tol=1e-9):
                return ParamResult(option, self.canonical(option))
        if problem is None:
            choices = ", ".join(self.label(option) for option in self.options)
            problem = f"not one of {choices}"
        return ParamResult(self.default, None, f"{problem}; using {self.label(self.default)}")


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
        numbers = [parse_int(text) for text in values]
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
    aliases: tuple[tuple[str, Any], ...] = ()  # older labels still read from links

    def canonical(self, value: tuple[Any, ...]) -> list[str] | None:
        return None if value == self.default else [self.label(v) for v in value] or [""]

    def parse(self, values: Sequence[str]) -> ParamResult:
        by_label = {self.label(option): option for option in self.options}
        by_label |= dict(self.aliases)
        if len(values) > 2 * len(self.options) or any(len(v) > MAX_PARAM_CHARS for v in values):
            return ParamResult(self.default, None, "too many values; using the default")
        given = [text for text in values if text != ""]
        known = [text for text in given if text in by_label]
        wanted = {by_label[text] for text in known}
        chosen = tuple(option for option in self.options if option in wanted)
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


Means = tuple[tuple[float, float], ...]
MEANS_DECIMALS = 3
MAX_COORDINATE = 1e6


def format_means(means: Means) -> str:
    """URL text of placed means: ``"x1,y1;x2,y2"`` (shortest exact numbers)."""
    return ";".join(f"{format_number(x)},{format_number(y)}" for x, y in means)


def parse_means(text: str, max_means: int) -> Means:
    """Placed means from ``"x1,y1;x2,y2;…"``, rounded to :data:`MEANS_DECIMALS`.

    Raises
    ------
    ValueError
        Saying what is wrong: not pairs of finite numbers, too many, too large, repeated.
    """
    parts = [part for part in text.strip().split(";") if part.strip()]
    if not parts:
        raise ValueError("no means given")
    if len(parts) > max_means:
        raise ValueError(f"more than {max_means} means")
    means = []
    for part in parts:
        pair = [parse_float(number) for number in part.split(",")]
        if len(pair) != 2 or any(number is None for number in pair):
            raise ValueError("each mean must be two finite numbers, as x,y")
        x, y = (round(float(number), MEANS_DECIMALS) for number in pair)  # type: ignore[arg-type]
        if max(abs(x), abs(y)) > MAX_COORDINATE:
            raise ValueError(f"a coordinate is beyond ±{MAX_COORDINATE:g}")
        means.append((x + 0.0, y + 0.0))
    if len(set(means)) != len(means):
        raise ValueError("two means are at the same place")
    return tuple(means)


@dataclass(frozen=True)
class MeansParam:
    """Placed initial means, ``x1,y1;x2,y2;…`` in the plotted plane; () when absent.

    A bad value drops every placed mean (the K range is used), never part of them.
    """

    key: str
    default: Means
    max_means: int

    def canonical(self, value: Means) -> str | None:
        return None if value == self.default else format_means(value)

    def parse(self, values: Sequence[str]) -> ParamResult:
        if len(values) != 1:
            return ParamResult(self.default, None, "given more than once; no placed means")
        if len(values[0]) > self.max_means * 2 * 24:
            return ParamResult(self.default, None, "too long; no placed means")
        try:
            means = parse_means(values[0], self.max_means)
        except ValueError as error:
            return ParamResult(self.default, None, f"{error}; no placed means")
        return ParamResult(means, self.canonical(means))

    def check(self, value: object) -> bool:
        return (
            isinstance(value, tuple)
            and len(value) <= self.max_means
            and all(
                isinstance(mean, tuple)
                and len(mean) == 2
                and all(isinstance(c, float) and math.isfinite(c) for c in mean)
                for mean in value
            )
        )


@dataclass(frozen=True)
class IterationsParam:
    """Up to ``max_count`` iterations in ``[0, high]``, written as ``0,1,2,5,20``; sorted.

    Any unusable entry (not a whole number, out of range, too many) keeps the default.
    """

    key: str
    default: tuple[int, ...]
    high: int
    max_count: int

    def label(self, value: tuple[int, ...]) -> str:
        return ",".join(str(v) for v in value)

    def canonical(self, value: tuple[int, ...]) -> str | None:
        return None if value == self.default else self.label(value)

    def read(self, text: str) -> tuple[tuple[int, ...] | None, str | None]:
        """The iterations in ``text``, or None and why not."""
        numbers = [parse_int(part) for part in text.split(",")]
        if not text.strip() or any(number is None for number in numbers):
            return None, "not a comma-separated list of whole numbers"
        value = tuple(sorted({int(n) for n in numbers if n is not None}))
        if not all(0 <= n <= self.high for n in value):
            return None, f"iterations must lie in 0–{self.high}"
        if len(value) > self.max_count:
            return None, f"at most {self.max_count} iterations"
        return value, None

    def parse(self, values: Sequence[str]) -> ParamResult:
        text, problem = _single(values)
        value, problem = (None, problem) if text is None else self.read(text)
        if value is None:
            return ParamResult(self.default, None, f"{problem}; using {self.label(self.default)}")
        return ParamResult(value, self.canonical(value))

    def check(self, value: object) -> bool:
        if not isinstance(value, tuple) or not all(isinstance(v, int) for v in value):
            return False
        return self.read(self.label(value))[0] == value


PRESET = ChoiceParam("preset", DEFAULTS.preset, (*PRESETS, *SHIPPED))
NOISE = FloatParam("noise", DEFAULTS.noise, *NOISE_BOUNDS, NOISE_STEP)
N_POINTS = IntParam("n", DEFAULTS.n, *N_POINTS_BOUNDS)
DATA_SEED = IntParam("data_seed", DEFAULTS.data_seed, 0, MAX_SEED)
K_RANGE = RangeParam("k_range", DEFAULTS.k_range, *K_BOUNDS)
RESTARTS = IntParam("restarts", DEFAULTS.restarts, *RESTART_BOUNDS)
INIT = ChoiceParam("init", DEFAULTS.init, INIT_METHODS)
COVARIANCE = ChoiceParam("cov", DEFAULTS.cov, COVARIANCE_TYPES)
MAX_ITER = IntParam("max_iter", DEFAULTS.max_iter, *MAX_ITER_BOUNDS)
TOL = ChoiceParam("tol", DEFAULTS.tol, TOL_OPTIONS, format_tol)
REG_COVAR = LogChoiceParam("reg_covar", DEFAULTS.reg_covar, REG_COVAR_OPTIONS, format_reg_covar)
INIT_SEED = IntParam("init_seed", DEFAULTS.init_seed, 0, MAX_SEED)
SIGMAS = MultiChoiceParam(
    "sigmas", DEFAULTS.sigmas, SIGMA_OPTIONS, format_sigma, (("1", 1.0), ("2", 2.0), ("3", 3.0))
)
VIEW = ChoiceParam("view", DEFAULTS.view, VIEW_OPTIONS)
TAB = ChoiceParam("tab", DEFAULTS.tab, TAB_OPTIONS)
STEP = IntParam("step", 0, 0, 2 * MAX_ITER_BOUNDS[1])
PANELS = IterationsParam("panels", DEFAULTS.panels, MAX_ITER_BOUNDS[1], MAX_PANELS)
PRESENT = ChoiceParam("present", False, (False, True), lambda on: "1" if on else "0")
INIT_MEANS = MeansParam("init_means", (), K_BOUNDS[1])
UNCERTAINTY = ChoiceParam("uncertainty", False, (False, True), lambda on: "true" if on else "false")
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
    REG_COVAR,
    INIT_SEED,
    INIT_MEANS,
)
PAGE_PARAMS = (SIGMAS, VIEW, TAB, STEP, PANELS, PRESENT, UNCERTAINTY)
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


def is_shipped(preset: str) -> bool:
    """Whether a preset is a shipped real data set (a fixed table, no true clusters)."""
    return preset in SHIPPED


def preset_k_range(preset: str) -> tuple[int, int]:
    """The K range a preset's link sets (unless the link gives ``k_range``)."""
    return SHIPPED[preset].k_range if is_shipped(preset) else PRESETS[preset].k_range


def preset_init(preset: str) -> str | None:
    """The init method a preset's link suggests (unless the link gives ``init``), or None."""
    return None if is_shipped(preset) else PRESETS[preset].init_params


def preset_description(preset: str) -> str:
    """One sentence on a preset's data, for the sidebar."""
    return SHIPPED[preset].description if is_shipped(preset) else PRESETS[preset].description
