"""URL parameter types: how one query parameter's untrusted text becomes a value.

Each type (:class:`IntParam`, :class:`FloatParam`, :class:`ChoiceParam`, …) parses the
text of one query parameter into a value (clamped, snapped or replaced by the default),
says why the text was not used as-is, and writes the canonical text back. The number
text helpers and the placed-means codec used by these types live here too.
:mod:`gmm_app.params` builds the app's parameters from these types.

Pure: no Streamlit. Must not import any ``gmm_app`` module or ``gmm_core``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_PARAM_CHARS = 64
"""The longest text read for one value of a parameter (placed means have their own)."""


# --------------------------------------------------------------------------- number text

_INT_TEXT = re.compile(r"[+-]?\d{1,18}")
_FLOAT_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?")


def format_number(value: float) -> str:
    """Shortest text for a number that reads back exactly: ``5.0 -> "5"``, ``0.25 -> "0.25"``."""
    number = float(value)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


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
