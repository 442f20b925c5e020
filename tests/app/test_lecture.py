"""AppTest checks of the Lecture page: the default deck, slide=N, advancing, bad decks."""

from __future__ import annotations

import base64
import json
import zlib

import pytest

from gmm_app import fit_flow, lecture, sweep_workers
from tests.support.apptest import charts, errors, make_app, plain, plain_errors, plain_warnings

pytestmark = pytest.mark.usefixtures("navigation_mode")

DECK = lecture.load_deck(None)


def open_lecture(query: dict[str, str] | None = None):
    at = make_app(query)
    at.switch_page("pages/lecture.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown(at) -> str:
    """The slide's bar: "**n/N · title** — takeaway"."""
    return plain(at.markdown[0].value)


def shows(at, number: int, deck: lecture.Deck = DECK) -> bool:
    slide = deck.slides[number - 1]
    return shown(at) == f"**{number}/{len(deck.slides)} · {slide.title}** — {slide.takeaway}"


@pytest.mark.slow  # every slide's sweep, a minute or more
def test_every_slide_of_the_default_deck_renders_by_advancing() -> None:
    at = open_lecture()
    for number, slide in enumerate(DECK.slides, start=1):
        assert shows(at, number), shown(at)
        assert at.query_params["slide"] == str(number)
        assert not at.exception, (number, [e.value for e in at.exception])
        if slide.query.get("reg_covar") == ("0",):  # the collapse: its error is the lesson
            assert any("collapsed onto identical" in e for e in plain_errors(at)), number
        else:
            assert errors(at) == [], (number, errors(at))
        if slide.page != "about":
            assert charts(at), f"slide {number} shows no chart"
        if number < len(DECK.slides):
            at.button(key="lecture_PageDown").click().run()
    assert at.button(key="lecture_PageDown").disabled
    at.button(key="lecture_PageUp").click().run()
    assert shows(at, len(DECK.slides) - 1)


def test_slide_n_in_the_link_opens_that_slide_with_its_settings() -> None:
    at = open_lecture({"slide": "3"})
    assert shows(at, 3)
    settings = at.session_state["settings"]
    assert settings.preset == "four_blobs"
    assert settings.init_means == ((-4.5, -4.0), (-3.5, -4.0), (0.0, 4.0), (4.0, -4.0))
    at.button(key="lecture_PageDown").click().run()  # the saddle: no placed means any more
    settings = at.session_state["settings"]
    assert (settings.init_means, settings.fit.init_params) == ((), "random")
    assert at.query_params["slide"] == "4"


def test_a_slide_number_out_of_the_deck_is_reported_and_shows_slide_1() -> None:
    at = open_lecture({"slide": "99"})
    assert any("No slide 99" in w for w in plain_warnings(at))
    assert shows(at, 1)


def test_the_slide_controls_still_work_after_opening_it() -> None:
    at = open_lecture({"slide": "7"})  # model selection over K = 1..6
    assert at.session_state["settings"].fit.k_max == 6
    at.sidebar.slider(key="k_range").set_value((1, 4)).run()
    assert not at.exception
    assert at.session_state["settings"].fit.k_max == 4  # not reset to the slide's settings
    assert shows(at, 7)


def carried(rows: object) -> str:
    """A ``deck=~...`` value holding ``rows`` as given (valid or not)."""
    packed = zlib.compress(json.dumps(["Mine", rows]).encode())
    return "~" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def test_a_deck_carried_in_the_link_round_trips_and_opens() -> None:
    mine = lecture.Deck("Mine", DECK.slides[-2:])
    code = lecture.encode_deck(mine)
    assert lecture.decode_deck(code) == mine
    at = open_lecture({"deck": code, "slide": "2"})
    assert shows(at, 2, mine)
    assert errors(at) == []


@pytest.mark.parametrize(
    ("deck", "problem"),
    [
        ("no_such_deck", "no deck named 'no_such_deck'"),
        ("~not-a-deck", "damaged"),
        (carried([]), "no slides"),
        (carried([["explore?preset=nope", "T", "A"]]), "slide 1: preset"),
        (carried([["explore", "T", "A"], ["your_data", "T", "A"]]), "slide 2: no page 'your_data'"),
        (carried([["explore?colour=red", "T", "A"]]), "slide 1: colour: unknown setting"),
        (carried([["explore", "", "A"]]), "slide 1: `title` must be a non-empty string"),
    ],
)
def test_a_bad_deck_gives_an_error_naming_the_problem(deck: str, problem: str) -> None:
    at = open_lecture({"deck": deck})
    assert any(problem in e for e in plain_errors(at)), plain_errors(at)
    assert not charts(at)


@pytest.mark.parametrize(
    ("text", "kind", "problem"),
    [
        ("[[slide]\ntitle = 'x'", "toml", "not a valid TOML file"),
        ('{"slide": [{"title": "T", "takeaway": "A"}]}', "json", "slide 1: `link`"),
        ('[{"title": "T", "takeaway": "A", "link": "explore", "notes": 1}]', "json", "notes"),
        ("title = 3\n[[slide]]\ntitle='T'\ntakeaway='A'\nlink='explore'", "toml", "`title`"),
        ('"just text"', "json", "a table with a list"),
    ],
)
def test_a_bad_deck_file_is_refused_with_its_problem(text: str, kind: str, problem: str) -> None:
    with pytest.raises(ValueError) as raised:
        lecture.parse_deck(text, kind)
    assert problem in str(raised.value)


def test_a_deck_file_in_json_reads_like_the_toml_one() -> None:
    rows = [{"title": s.title, "takeaway": s.takeaway, "link": s.link} for s in DECK.slides]
    deck = lecture.parse_deck(json.dumps({"title": DECK.title, "slide": rows}), "json")
    assert deck == DECK


@pytest.mark.slow
def test_opening_a_deck_precomputes_its_sweeps_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweep_workers, "configured_workers", lambda: 1)
    monkeypatch.setattr(lecture, "_PRECOMPUTING", {})
    monkeypatch.setattr(lecture, "PREPARED", {})
    fit_flow.SWEEPS.clear()
    two = lecture.Deck("Two", (DECK.slides[2], DECK.slides[6]))  # placed means; BIC over K
    started: list[object] = []
    original = fit_flow.sweep_synthetic

    def recorded(data, fit, _progress=None):
        started.append(fit)
        return original(data, fit, _progress)

    monkeypatch.setattr(fit_flow, "sweep_synthetic", recorded)
    thread = lecture.precompute(two, "two")
    assert thread is not None and lecture.precompute(two, "two") is thread  # once per deck
    thread.join(timeout=240)
    assert not thread.is_alive()
    assert [fit.k_max for fit in started] == [4, 6]  # in the deck's order
    assert lecture.PREPARED["two"] == [2, 2]
    for number in ("1", "2"):  # each slide finds its sweep ready
        at = open_lecture({"deck": lecture.encode_deck(two), "slide": number})
        assert at.session_state[fit_flow.LAST_SWEEP].fresh is False, number
