"""A Plotly figure whose animation frames stay plain dicts, so a redraw does not check them.

:func:`new_figure` makes one that Plotly does not check as it is built either (unless
:data:`gmm_figures.style.CHECK_FIGURES`); its JSON then names its template, which
:meth:`PlainFramesFigure.to_dict` expands as a checked figure would.

Assigning ``fig.frames`` makes Plotly build and check a ``go.Frame`` and a trace object for
every trace of every frame: about half a second for the fit animation's 64 frames on a
2-core machine, paid on every redraw. The animated builders make their frames from checked,
rounded arrays, already in Plotly's JSON form, so :class:`PlainFramesFigure` keeps them as
given. ``to_dict`` (which ``st.plotly_chart``, ``plotly.io.to_json`` and ``to_html`` read)
returns a copy of them; reading ``.frames`` turns them into checked ``go.Frame`` objects.

Pure: Plotly and NumPy only; must not import Streamlit or ``gmm_app``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from _plotly_utils.basevalidators import BaseDataValidator

from gmm_figures import style

__all__ = ["PlainFramesFigure", "new_figure"]


class _UncheckedTraces(BaseDataValidator):
    """The figure's trace importer, copying added traces without checking them again.

    ``go.Figure.add_traces`` copies every added trace through its data validator with
    checking on, whatever the figure's ``_validate``: for the fit animation's 157 traces
    (markers with one colour per point) that was most of the figure's build time.
    """

    def validate_coerce(self, v: Any, skip_invalid: bool = False, _validate: bool = True) -> Any:
        """The traces ``v`` as trace objects, copied without checking (``_validate`` is
        ignored)."""
        return super().validate_coerce(v, skip_invalid=skip_invalid, _validate=False)


class PlainFramesFigure(go.Figure):
    """A ``go.Figure`` with frames set by :meth:`set_plain_frames` kept unchecked until read.

    Built with ``_validate=False``, it does not check the traces that ``add_trace`` and
    ``add_traces`` add either (nor, then, later updates of those traces).
    """

    _plain_frames: str | None = None  # the frames as JSON text: a copy nobody can mutate

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self._validate and type(self._data_validator) is BaseDataValidator:
            self._data_validator.__class__ = _UncheckedTraces

    def set_plain_frames(self, frames: Sequence[dict[str, Any]]) -> None:
        """Use ``frames`` (Plotly frame dicts of numbers, strings, lists) as the figure's frames.

        Raises
        ------
        ValueError
            If a number in ``frames`` is NaN or infinite.
        """
        self._frame_objs = ()
        self._plain_frames = json.dumps(list(frames), allow_nan=False, default=_as_list)

    @property
    def frames(self) -> tuple[go.Frame, ...]:
        """The frames as checked ``go.Frame`` objects (built on first read)."""
        if self._plain_frames is not None:
            plain, self._plain_frames = json.loads(self._plain_frames), None
            self._frame_objs = self._frames_validator.validate_coerce(plain)
        return self._frame_objs

    @frames.setter
    def frames(self, new_frames: Any) -> None:
        self._plain_frames = None
        self._frame_objs = self._frames_validator.validate_coerce(new_frames)

    def to_dict(self) -> dict[str, Any]:
        """As ``go.Figure.to_dict``, with the plain frames copied in as they are and a
        template name (kept by an unchecked figure) expanded into the template."""
        spec = super().to_dict()
        template = spec.get("layout", {}).get("template")
        if isinstance(template, str):
            spec["layout"]["template"] = style.template_spec(template)
        if self._plain_frames is not None:
            frames = json.loads(self._plain_frames)
            if frames:
                spec["frames"] = frames
        return spec


def new_figure() -> PlainFramesFigure:
    """An empty :class:`PlainFramesFigure`, checked by Plotly as it is built only when
    :data:`gmm_figures.style.CHECK_FIGURES`."""
    return PlainFramesFigure(_validate=style.CHECK_FIGURES)


def _as_list(value: Any) -> Any:
    """NumPy arrays and scalars as Python lists and numbers (``json.dumps``'s fallback)."""
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    raise TypeError(f"a figure frame holds a {type(value).__name__}, not a JSON value")
