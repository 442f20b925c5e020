"""URL parameter types: how one query parameter's untrusted text becomes a value.

One :class:`Param` per query parameter; its ``kind`` says how its text is read (clamped,
snapped or replaced by the default), why the text was not used as-is, and how the value
is written back. The number text helpers and the placed-means codec live here too.
:mod:`gmm_app.params` holds the app's table of parameters.

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
    number = parse_float(text)
    if number is not None and number.is_integer() and abs(number) < 1e18:
        return int(number)
    return None


def parse_float(text: str) -> float | None:
    text = text.strip()
    if not _FLOAT_TEXT.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


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
class ParamResult:
    """Outcome of validating one query parameter: the ``value`` to use (the default when
    the given one was unusable), the canonical ``url`` text to keep (None: remove it, the
    value is the default) and a ``note`` on why the given text was not used as-is."""

    value: Any
    url: str | list[str] | None
    note: str | None = None


@dataclass(frozen=True)
class Param:
    """One query parameter.

    ``kind`` is one of:

    - ``"int"``, ``"float"``: a number in ``[low, high]``, clamped; a float is snapped to a
      grid of ``step``.
    - ``"choice"``: one of ``options``, written by its ``label``.
    - ``"number"``: one of numeric ``options``, given by its label or any text of it
      (``reg_covar=1e-5``, ``0.00001`` and ``1e-05`` all pick 1e-05).
    - ``"range"``: two whole numbers in ``[low, high]``, a repeated parameter; clamped, sorted.
    - ``"multi"``: any subset of ``options``, a repeated parameter of labels; ``aliases``
      are older labels still read from links.
    - ``"means"``: up to ``max_count`` placed means ``x1,y1;x2,y2``; a bad value drops all.
    - ``"iterations"``: up to ``max_count`` iterations in ``[0, high]``, as ``0,1,2,5,20``.
    """

    key: str
    kind: str
    default: Any
    low: Any = 0
    high: Any = 0
    step: float = 1
    options: tuple[Any, ...] = ()
    label: Callable[[Any], str] = str
    aliases: tuple[tuple[str, Any], ...] = ()
    max_count: int = 0

    @property
    def max_means(self) -> int:
        return self.max_count

    def canonical(self, value: Any) -> str | list[str] | None:
        """The URL text of ``value``, or None for the default."""
        if value == self.default:
            return None
        if self.kind == "range":
            return [str(value[0]), str(value[1])]
        if self.kind == "multi":
            return [self.label(v) for v in value] or [""]
        return self.label(value)

    def parse(self, values: Sequence[str]) -> ParamResult:
        """Read the given values of this parameter (several when it is repeated)."""
        value, note = self._read_all(list(values))
        if value is None:
            value = self.default
            if self.kind == "means":
                note = f"{note}; no placed means"
            elif self.kind == "range":
                note = f"{note}; using {self.default[0]}–{self.default[1]}"
            else:
                shown = "the default" if self.kind == "multi" else self.label(self.default)
                note = f"{note}; using {shown}"
        return ParamResult(value, self.canonical(value), note)

    def _read_all(self, values: list[str]) -> tuple[Any, str | None]:
        """The value and a note, or None and why the default is used instead."""
        if self.kind == "range":
            if len(values) != 2 or any(len(text) > MAX_PARAM_CHARS for text in values):
                return None, "needs two whole numbers"
            numbers = [parse_int(text) for text in values]
            if None in numbers:
                return None, "not whole numbers"
            ends = sorted(min(max(n, self.low), self.high) for n in numbers)  # type: ignore[type-var]
            changed = ends != sorted(numbers)  # type: ignore[type-var]
            note = f"outside {self.low}–{self.high}; using {ends[0]}–{ends[1]}" if changed else None
            return (ends[0], ends[1]), note
        if self.kind == "multi":
            by_label = {self.label(option): option for option in self.options} | dict(self.aliases)
            if len(values) > 2 * len(self.options) or any(len(v) > MAX_PARAM_CHARS for v in values):
                return None, "too many values"
            given = [text for text in values if text != ""]
            known = [text for text in given if text in by_label]
            wanted = {by_label[text] for text in known}
            chosen = tuple(option for option in self.options if option in wanted)
            if given and not chosen:
                return None, "no known choice"
            if len(known) != len(given):
                return chosen, "unknown choices left out"
            return chosen, "repeated choices merged" if len(set(known)) != len(known) else None
        limit = self.max_count * 2 * 24 if self.kind == "means" else MAX_PARAM_CHARS
        if len(values) != 1:
            return None, "given more than once"
        if len(values[0]) > limit:
            return None, "too long"
        return self.read(values[0])

    def read(self, text: str) -> tuple[Any, str | None]:
        """The value of one text, or None and why not; a value may come with a note (clamped)."""
        if self.kind in ("int", "float"):
            number = (parse_int if self.kind == "int" else parse_float)(text)
            if number is None:
                return None, "not a whole number" if self.kind == "int" else "not a finite number"
            value = min(max(number, self.low), self.high)
            if self.kind == "float":
                value = round(self.low + round((value - self.low) / self.step) * self.step, 10)
            if self.low <= number <= self.high:
                return value, None
            shown = map(format_number, (self.low, self.high, value))
            return value, "outside {}–{}; using {}".format(*shown)
        if self.kind == "choice":
            by_label = {self.label(option): option for option in self.options}
            return by_label.get(text), None if text in by_label else "not one of the choices"
        if self.kind == "number":
            number = parse_float(text)
            for option in self.options:
                if number is not None and math.isclose(number, option, rel_tol=1e-9):
                    return option, None
            return None, f"not one of {', '.join(map(self.label, self.options))}"
        if self.kind == "means":
            try:
                return parse_means(text, self.max_count), None
            except ValueError as error:
                return None, str(error)
        numbers = [parse_int(part) for part in text.split(",")]  # iterations
        if not text.strip() or None in numbers:
            return None, "not a comma-separated list of whole numbers"
        value = tuple(sorted(set(numbers)))  # type: ignore[type-var]
        if not all(0 <= n <= self.high for n in value):
            return None, f"iterations must lie in 0–{self.high}"
        if len(value) > self.max_count:
            return None, f"at most {self.max_count} iterations"
        return value, None
