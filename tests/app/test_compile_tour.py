"""Compilations over a scripted tour of every page and every preset, in a fresh process.

A visitor's usual moves (a preset, a page, the noise, a seed) should meet a compiled
program: the tour counts how many sweep programs each step compiles, then takes the
same tour again, where nothing may compile.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.support.subprocesses import run_python

TOUR_SCRIPT = """
import json, sys
import gmm_core
from streamlit.runtime.pages_manager import PagesManager
from gmm_app.params import PRESET
from tests.support.apptest import make_app, open_page, run_ok, sidebar

# As tests/conftest.py's navigation_mode fixture: reruns go through app.py.
original = PagesManager.__init__
def init(self, *args, **kwargs):
    original(self, *args, **kwargs)
    PagesManager.uses_pages_directory = False
PagesManager.__init__ = init

PAGES = ("pages/model_selection.py", "pages/restarts.py", "pages/your_data.py", "pages/about.py")
steps = []

def step(name, action):
    before = gmm_core.compilation_count()
    at = action()
    assert not at.exception, [e.value for e in at.exception]
    steps.append([name, gmm_core.compilation_count() - before])
    return at

def tour(label):
    at = step(f"{label}: Explore, default", lambda: run_ok(make_app()))
    for page in PAGES:
        step(f"{label}: {page.split('/')[-1][:-3]}", lambda: open_page(at, page))
    for preset in PRESET.options:
        step(f"{label}: preset {preset}", lambda: run_ok(make_app({"preset": preset})))
    at = run_ok(make_app())
    for name in ("Noise", "Data seed", "Init seed"):
        widget = [s for s in at.slider if s.label.startswith(name)]
        widget = widget or [n for n in at.number_input if n.label.startswith(name)]
        if widget:
            control = widget[0]
            moved = control.value + (0.1 if isinstance(control.value, float) else 1)
            control.set_value(moved)
            step(f"{label}: move {name}", lambda: run_ok(at))

tour("first tour")
tour("second tour")
print(json.dumps(steps))
"""


@pytest.mark.slow
def test_a_tour_of_every_page_and_preset_compiles_few_programs_and_repeats_none(
    record_property: Callable[[str, object], None],
) -> None:
    # Sweeps in this process; real compilations, not persistent-cache hits.
    env = {"GMM_SWEEP_WORKERS": "0", "GMM_COMPILATION_CACHE": ""}
    stdout = run_python(["-c", TOUR_SCRIPT], env, timeout=900)
    steps = json.loads(stdout.strip().splitlines()[-1])
    first = [(name, count) for name, count in steps if name.startswith("first")]
    second = [(name, count) for name, count in steps if name.startswith("second")]
    total = sum(count for _, count in first)
    compiling = [f"{name.split(': ')[1]} {count}" for name, count in first if count]
    print(f"compile tour: {total} programs in {len(first)} steps ({', '.join(compiling)})")
    record_property("figure", f"compile tour: {total} programs in {len(first)} steps, again 0")
    assert any("move" in name for name, _ in first), first  # the slider moves were found
    assert [(name, count) for name, count in second if count] == []
    assert total <= len(first) // 2, first
