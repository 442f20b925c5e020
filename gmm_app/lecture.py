"""The Lecture page: an ordered deck of live views (slides), advanced by a presenter's clicker.

A slide is a link of the app (a page and its settings, e.g.
``explore?preset=old_faithful&tab=Panels``), a short title and one sentence to take away.
Opening a slide sets the sidebar's and the page's bound widgets to the link's values, as a
visitor's own edits would, then runs the slide's page script under its title: every
control of the slide still works, and the address shows the slide's settings. PageDown,
→ and Space advance, PageUp and ← go back (``st.button(shortcut=...)``, as the Step tab's
keys; on a Step slide ← and → walk EM instead); advancing reruns the page, it does not
reload it. ``slide=N`` (from 1) is in the link.

Decks: a TOML file (or JSON, the same fields) with ``[[slide]]`` tables of ``title``,
``takeaway`` and ``link``. ``deck=NAME`` opens ``gmm_app/decks/NAME.toml`` (none: the
default deck); ``deck=~CODE`` carries the deck in the link: CODE is the base64url of the
zlib-compressed JSON list of ``[link, title, takeaway]``. A file uploaded on the page
becomes such a link. When a deck opens, every slide's sweep is computed in the
background, in the deck's order, into the shared sweep cache.

Must not import JAX: compiled work lives in gmm_core (``tests/test_layers.py``).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import re
import runpy
import threading
import tomllib
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import streamlit as st
from streamlit.errors import StreamlitAPIException

from gmm_app import clusters_editor, fit_flow, presenter, sweep_workers
from gmm_app.app_settings import parse_query_params, settings_from_values
from gmm_app.cluster_table import preset_clusters
from gmm_app.params import (
    CLUSTERS_KEY,
    DECK_KEY,
    INIT_MEANS,
    K_KEY,
    PAGE_PARAMS,
    PANELS,
    PRESENT,
    PRESET,
    RESTART_KEY,
    SIDEBAR_PARAMS,
    SIGMAS,
    SLIDE_KEY,
    TAB,
    UNCERTAINTY,
    is_shipped,
)
from gmm_app.widgets import escape_markdown

ROOT = Path(__file__).resolve().parent.parent
DECKS = Path(__file__).with_name("decks")
DEFAULT_DECK = "em_in_15_minutes"
#: The pages a slide can show, by the path of their link.
PAGE_SCRIPTS = {
    "explore": "pages/explore.py",
    "model_selection": "pages/model_selection.py",
    "restarts": "pages/restarts.py",
    "about": "pages/about.py",
}
MAX_SLIDES = 40
MAX_TEXT = 300
#: Not a slide's setting: the lecture's own keys and presenter mode (the lecture's).
LECTURE_KEYS = (SLIDE_KEY, DECK_KEY, PRESENT.key)
#: Read from the address itself (not only from a widget), so they are written there.
URL_KEYS = (INIT_MEANS.key, CLUSTERS_KEY, PANELS.key, UNCERTAINTY.key)
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SHOWN = "_lecture_shown"  # (deck, slide number) whose settings the widgets hold
_PENDING = "_lecture_pending"  # (deck, slide number) to apply before the sidebar is drawn
_NOTE = "_lecture_note"  # a warning to show once the slide is open
_UPLOAD = "lecture_upload"
_UPLOAD_PROBLEM = "_lecture_upload_problem"


@dataclass(frozen=True)
class Slide:
    """One view of the app: ``page`` (a key of :data:`PAGE_SCRIPTS`) and its ``query``."""

    title: str
    takeaway: str
    page: str
    query: Mapping[str, tuple[str, ...]]

    @property
    def link(self) -> str:
        """The slide's link, relative to the app (``explore?preset=...``)."""
        query = urlencode({k: list(v) for k, v in self.query.items()}, doseq=True, safe=",;")
        return f"{self.page}?{query}" if query else self.page

    @property
    def steps_by_keys(self) -> bool:
        """Whether ← and → walk EM on this slide (the Step tab's keys)."""
        return self.page == "explore" and self.query.get(TAB.key) == ("Step",)


@dataclass(frozen=True)
class Deck:
    """An ordered deck of slides."""

    title: str
    slides: tuple[Slide, ...]


# --------------------------------------------------------------------------- reading decks


def parse_link(link: str, where: str = "the link") -> tuple[str, dict[str, tuple[str, ...]]]:
    """The page and settings of an app link, checked as the app checks a visitor's link.

    Raises
    ------
    ValueError
        Naming ``where`` and the problem: another site, an unknown page, a setting the app
        would ignore or change.
    """
    parts = urlsplit(link.strip())
    if parts.scheme or parts.netloc:
        parts = urlsplit(parts.path.rsplit("/", 1)[-1] + ("?" + parts.query if parts.query else ""))
    page = parts.path.strip("/").rsplit("/", 1)[-1] or "explore"
    if page not in PAGE_SCRIPTS:
        raise ValueError(f"{where}: no page {page!r} (use one of {', '.join(PAGE_SCRIPTS)})")
    query = {
        key: tuple(values)
        for key, values in parse_qs(parts.query, keep_blank_values=True).items()
        if key not in LECTURE_KEYS
    }
    ignored = parse_query_params(query).ignored
    if ignored:
        reasons = "; ".join(f"{key}: {reason}" for key, reason in ignored)
        raise ValueError(f"{where}: {reasons}")
    return page, query


def _text(record: Mapping[str, Any], field: str, where: str) -> str:
    value = record.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: `{field}` must be a non-empty string")
    if len(value) > MAX_TEXT:
        raise ValueError(f"{where}: `{field}` is longer than {MAX_TEXT} characters")
    return value.strip()


def deck_from_records(records: object, title: str = "Your deck") -> Deck:
    """A deck from a list of ``{"title", "takeaway", "link"}`` records.

    Raises
    ------
    ValueError
        Naming the slide and the problem.
    """
    if not isinstance(records, list) or not records:
        raise ValueError("the deck has no slides: give a list of [[slide]] tables")
    if len(records) > MAX_SLIDES:
        raise ValueError(f"the deck has {len(records)} slides; at most {MAX_SLIDES}")
    slides = []
    for number, record in enumerate(records, start=1):
        where = f"slide {number}"
        if not isinstance(record, Mapping):
            raise ValueError(f"{where}: expected a table with title, takeaway and link")
        if unknown := sorted(set(record) - {"title", "takeaway", "link"}):
            raise ValueError(f"{where}: unknown field {', '.join(unknown)}")
        page, query = parse_link(_text(record, "link", where), where)
        slides.append(
            Slide(_text(record, "title", where), _text(record, "takeaway", where), page, query)
        )
    return Deck(title, tuple(slides))


def parse_deck(text: str, kind: str = "toml") -> Deck:
    """A deck from a TOML or JSON file's text (``kind``: "toml" or "json").

    Both hold a list ``slide`` of tables (``title``, ``takeaway``, ``link``) and an optional
    ``title``; JSON may also be the bare list.

    Raises
    ------
    ValueError
        What is wrong, in one line.
    """
    try:
        data: Any = json.loads(text) if kind == "json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"not a valid {kind.upper()} file: {error}") from None
    if isinstance(data, list):
        data = {"slide": data}
    if not isinstance(data, dict):
        raise ValueError("the deck must be a table with a list `slide`")
    title = data.get("title", "Your deck")
    if not isinstance(title, str):
        raise ValueError("the deck's `title` must be a string")
    return deck_from_records(data.get("slide"), title.strip()[:MAX_TEXT] or "Your deck")


def encode_deck(deck: Deck) -> str:
    """The ``deck=`` value that carries ``deck`` in a link (``~`` and base64url)."""
    rows = [[slide.link, slide.title, slide.takeaway] for slide in deck.slides]
    packed = zlib.compress(json.dumps([deck.title, rows], separators=(",", ":")).encode(), 9)
    return "~" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def decode_deck(code: str) -> Deck:
    """The deck of a ``deck=~...`` value (see :func:`encode_deck`).

    Raises
    ------
    ValueError
        When the value is not such a deck.
    """
    try:
        text = code.removeprefix("~")
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        title, rows = json.loads(zlib.decompress(packed, bufsize=1 << 16))
        records = [{"link": r[0], "title": r[1], "takeaway": r[2]} for r in rows]
    except (binascii.Error, zlib.error, ValueError, TypeError, IndexError, KeyError):
        raise ValueError(
            "the deck in the link is damaged (deck=~...): copy its link again"
        ) from None
    return deck_from_records(records, str(title)[:MAX_TEXT])


@functools.lru_cache(maxsize=32)
def load_deck(value: str | None) -> Deck:
    """The deck a ``deck=`` value names: a file of :data:`DECKS`, a carried deck, or the
    default deck (None or empty).

    Raises
    ------
    ValueError
        Naming the problem.
    """
    if value and value.startswith("~"):
        return decode_deck(value)
    name = value or DEFAULT_DECK
    path = DECKS / f"{name}.toml"
    if not _NAME.fullmatch(name) or not path.is_file():
        known = ", ".join(sorted(p.stem for p in DECKS.glob("*.toml")))
        raise ValueError(f"no deck named {name[:64]!r} in gmm_app/decks (there: {known})")
    try:
        return parse_deck(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ValueError(f"gmm_app/decks/{name}.toml: {error}") from None


# --------------------------------------------------------------------------- opening a slide


def _widget_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The value of every URL-bound widget for a slide's parsed settings, by key."""
    keys = [p.key for p in (*SIDEBAR_PARAMS, *PAGE_PARAMS) if p not in (INIT_MEANS, PRESENT)]
    widgets = {key: values[key] for key in (*keys, K_KEY, RESTART_KEY)}
    widgets[SIGMAS.key] = list(values[SIGMAS.key])
    widgets[PANELS.key] = PANELS.label(values[PANELS.key])
    return widgets


def _set_url(key: str, value: str | Sequence[str] | None) -> None:
    """Write (None: remove) a query parameter; a widget bound to it writes it instead."""
    try:
        if value is None:
            st.query_params.pop(key, None)
        else:
            st.query_params[key] = value
    except StreamlitAPIException:
        pass


def _open(slide: Slide, deck: str | None, number: int) -> None:
    """Give the widgets and the address ``slide``'s settings; before any widget is drawn."""
    parsed = parse_query_params(slide.query)
    for key, value in _widget_values(parsed.values).items():
        st.session_state[key] = value
    if not is_shipped(preset := parsed.values[PRESET.key]):
        clusters_editor.reset_table(preset, parsed.clusters)
    for key in URL_KEYS:
        _set_url(key, parsed.url.get(key))
    _set_url(SLIDE_KEY, str(number))
    _set_url(DECK_KEY, deck or None)
    st.session_state[_SHOWN] = (deck, number)


def open_pending_slide() -> None:
    """Open the slide the Lecture page asked for on its last run; ``app.py`` calls this
    before the sidebar, whose widgets must not be drawn yet."""
    pending = st.session_state.pop(_PENDING, None)
    if pending is None:
        return
    deck, number = pending
    st.session_state[_SHOWN] = pending  # never ask twice, even when the deck fails
    try:
        _open(load_deck(deck).slides[number - 1], deck, number)
    except (ValueError, IndexError):
        return  # the page says what is wrong


def _go(deck: str | None, number: int) -> None:
    """Button callback: open slide ``number`` of ``deck`` (widgets are not drawn yet)."""
    try:
        _open(load_deck(deck).slides[number - 1], deck, number)
    except ValueError:  # the deck's file changed under the page: the page reports it
        return


def _on_upload() -> None:
    """Uploader callback: open slide 1 of the uploaded deck, carried in the link."""
    upload = st.session_state.get(_UPLOAD)
    st.session_state[_UPLOAD_PROBLEM] = None
    if upload is None:
        return
    kind = "json" if upload.name.lower().endswith(".json") else "toml"
    try:
        deck = parse_deck(upload.getvalue().decode("utf-8"), kind)
    except (ValueError, UnicodeDecodeError) as error:
        st.session_state[_UPLOAD_PROBLEM] = f"{upload.name}: {error}"
        return
    code = encode_deck(deck)
    _open(deck.slides[0], code, 1)


# --------------------------------------------------------------------------- precomputing


_PRECOMPUTING: dict[str | None, threading.Thread] = {}
#: Per deck: (slides whose sweeps are done, slides with sweeps), for the page to say.
PREPARED: dict[str | None, list[int]] = {}


def precompute(deck: Deck, name: str | None) -> threading.Thread | None:
    """Once per deck and server: every slide's sweep in the background, in the deck's order.

    Into the shared sweep cache, as :func:`gmm_app.fit_flow.warm_default_sweep` does, so an
    advance finds its sweep ready; a Restarts slide also gets every init method's sweep.
    Only with sweep workers (``GMM_SWEEP_WORKERS`` > 0); a failed sweep is left to its
    slide, which reports it.
    """
    if name in _PRECOMPUTING or sweep_workers.configured_workers() == 0:
        return _PRECOMPUTING.get(name)
    jobs = []
    for slide in deck.slides:
        if slide.page == "about":
            continue
        parsed = parse_query_params(slide.query)
        preset = parsed.values[PRESET.key]
        table = () if is_shipped(preset) else parsed.clusters or preset_clusters(preset)
        settings = settings_from_values(parsed.values, table)
        if not settings.synthetic_problems():
            jobs.append((settings.data_key, settings.fit_key, slide.page == "restarts"))

    PREPARED[name] = [0, len(jobs)]

    def run() -> None:
        for data, fit, every_init in jobs:
            try:
                if every_init:
                    fit_flow.compare_inits(data, fit, fit.k_min)
                else:
                    fit_flow.sweep_synthetic(data, fit)
            except Exception:  # noqa: BLE001 (the slide's own run reports it)
                logging.getLogger(__name__).warning("a slide's sweep failed in the background")
            PREPARED[name][0] += 1

    _PRECOMPUTING[name] = threading.Thread(target=run, daemon=True, name="gmm-lecture-sweeps")
    _PRECOMPUTING[name].start()
    return _PRECOMPUTING[name]


# --------------------------------------------------------------------------- the page

_CSS = """
<style>
.st-key-lecture_keys { display: none; }
.st-key-lecture_bar [data-testid="stMarkdownContainer"] p { margin: 0; font-size: 1.1rem; }
</style>
"""
#: In presenter mode the slide's bar replaces the page's own heading line.
_PRESENTER_CSS = """
<style>
.st-key-lecture_slide > [data-testid="stElementContainer"]:first-child { display: none; }
</style>
"""


def _slide_number(n_slides: int) -> int:
    """``slide=`` of the link, from 1; a bad value gives slide 1 and a note for the page."""
    text = st.query_params.get(SLIDE_KEY, "1")
    if text.isdigit() and 1 <= int(text) <= n_slides:
        return int(text)
    st.session_state[_NOTE] = f"No slide {escape_markdown(text[:20])} in this deck of {n_slides}."
    return 1


def _bar(deck: Deck, name: str | None, number: int) -> None:
    """The slide's number, title and takeaway on one line, and the keys that move.

    Back and Next (PageUp, PageDown) are buttons beside it, hidden in presenter mode
    like the other keys (Space, → and ←, which a Step slide leaves to EM's steps).
    """
    slide, last = deck.slides[number - 1], len(deck.slides)
    keys = [("PageUp", number - 1), ("PageDown", number + 1), ("Space", number + 1)]
    if not slide.steps_by_keys:
        keys += [("Right", number + 1), ("Left", number - 1)]
    presenting = presenter.presenting()
    if presenting:
        text = st.container(key="lecture_bar")
    else:
        back, text, forward = st.columns([1, 12, 1], vertical_alignment="center")
        text = text.container(key="lecture_bar")
    with st.container(key="lecture_keys"):  # hidden: the keys without a visible button
        st.html(_CSS)  # hidden: no gap for it
        if presenting:
            st.html(_PRESENTER_CSS)
        for shortcut, target in keys:
            visible = not presenting and shortcut in ("PageUp", "PageDown")
            place = (back if shortcut == "PageUp" else forward) if visible else st
            place.button(
                ("◀" if shortcut == "PageUp" else "▶") if visible else shortcut,
                key=f"lecture_{shortcut}",
                shortcut=shortcut,
                on_click=_go,
                args=(name, target),
                disabled=not 1 <= target <= last,
                help="Previous slide (PageUp, ←)"
                if target < number
                else "Next slide (PageDown, →, Space)",
            )
    text.markdown(
        f"**{number}/{last} · {escape_markdown(slide.title, MAX_TEXT)}** — "
        f"{escape_markdown(slide.takeaway, MAX_TEXT)}"
    )


def _deck_tools(deck: Deck, name: str | None) -> None:
    """Outside presenter mode: the slides, the deck's link and a deck of one's own."""
    with st.expander(f"Deck: {deck.title} ({len(deck.slides)} slides), or your own"):
        for number, slide in enumerate(deck.slides, start=1):
            st.markdown(f"{number}. **{escape_markdown(slide.title, MAX_TEXT)}** — `{slide.link}`")
        st.markdown("This deck's link (add `&present=1` to present it):")
        st.code(f"lecture?deck={name or DEFAULT_DECK}", language=None)
        st.file_uploader(
            "Your deck: a TOML or JSON file of [[slide]] tables (title, takeaway, link)",
            type=["toml", "json"],
            key=_UPLOAD,
            on_change=_on_upload,
        )
        if problem := st.session_state.get(_UPLOAD_PROBLEM):
            st.error(f"The deck was not opened: {escape_markdown(problem, 400)}")


def lecture_page() -> None:
    """The Lecture page: the deck of ``deck=``, its slide ``slide=`` and that slide's view."""
    name = st.query_params.get(DECK_KEY) or None
    try:
        deck = load_deck(name)
    except ValueError as error:
        st.error(f"This deck cannot be shown: {escape_markdown(str(error), 400)}")
        return
    number = _slide_number(len(deck.slides))
    # Where app.py did not run (Streamlit's legacy pages/ mode runs a page on its own
    # until a run of app.py has called st.navigation), no widget is drawn yet.
    open_pending_slide()
    if st.session_state.get(_SHOWN) != (name, number):
        st.session_state[_PENDING] = (name, number)
        st.rerun()  # the slide's settings go into the widgets before they are drawn
    precompute(deck, name)
    if note := st.session_state.pop(_NOTE, None):
        st.warning(note, icon="⚠️")
    _bar(deck, name, number)
    if not presenter.presenting():
        if name in PREPARED:
            done, total = PREPARED[name]
            st.caption(f"Slides prepared in the background: {done} of {total}.")
        _deck_tools(deck, name)
    slide = deck.slides[number - 1]
    with st.container(key="lecture_slide"):
        runpy.run_path(str(ROOT / PAGE_SCRIPTS[slide.page]), run_name="__main__")
