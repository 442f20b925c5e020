"""The slider → redraw profile (``scripts/profile_redraw.py``) runs and its parts add up.

The script starts its own server with ``GMM_PROFILE=1``, moves the Explore page's Noise
slider in Chromium and splits each redraw into its parts; the medians go in the
"measured figures" summary. The bounds are loose: this checks that the profile still
measures what it says, not how fast the machine is.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable

import pytest

from tests.support.browser import ROOT, report, skip_module_without_browser

pytestmark = pytest.mark.browser
skip_module_without_browser()

MOVES = 3
SERVER_PARTS = ("rerun start", "sidebar", "data", "sweep", "figure build", "send (chart call)")


def test_the_redraw_profile_splits_a_slider_move_into_its_parts(
    browser_ready: None, record_property: Callable[[str, object], None]
) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import profile_redraw
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    rows = profile_redraw.profile(MOVES, "")
    assert len(rows) == MOVES
    median = {name: statistics.median(row[name] for row in rows) for name in rows[0]}
    report(
        record_property,
        f"slider → redraw parts (median of {MOVES} moves, scripts/profile_redraw.py): "
        + ", ".join(
            f"{name.removesuffix(' kB')} {value:.0f} kB"
            if "kB" in name
            else f"{name.strip()} {value:.3f} s"
            for name, value in median.items()
        ),
    )
    for row in rows:
        assert all(row[name] >= 0 for name in SERVER_PARTS), row
        assert row["browser render"] > 0 and row["chart message kB"] > 10, row
        assert 0 < row["  of which worker run"] <= row["sweep"], row  # the worker's own time
        # The parts lie inside the press → drawn time.
        inside = sum(row[name] for name in SERVER_PARTS) + row["browser render"]
        assert inside <= row["total (press → drawn)"] + 0.05, row
    assert median["total (press → drawn)"] < 10.0
