"""The server sets its modules aside from the garbage collector, and so does a sweep worker."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.subprocesses import run_python

WALKED = """
import gc
from gmm_app import long_lived
long_lived.set_aside_imports()  # also imports the pages' modules
print(len(gc.get_objects()), gc.get_freeze_count())
"""


def test_after_start_up_a_full_collection_walks_a_small_part_of_the_objects(
    record_property: Callable[[str, object], None],
) -> None:
    walked, frozen = map(int, run_python(["-c", WALKED]).split()[-2:])
    record_property(
        "figure", f"after start-up a full collection walks {walked} objects, {frozen} set aside"
    )
    assert frozen > 100_000  # Streamlit's, Plotly's, pandas' objects…
    assert walked < 0.05 * frozen  # …which the collector no longer walks


def test_set_aside_imports_runs_once_and_imports_every_page_module() -> None:
    script = (
        "import sys\n"
        "from gmm_app import long_lived\n"
        "first = long_lived.set_aside_imports()\n"
        "assert long_lived.set_aside_imports() == first\n"
        "print(all(name in sys.modules for name in long_lived.PAGE_MODULES), first > 0)\n"
    )
    assert run_python(["-c", script]).split()[-2:] == ["True", "True"]
