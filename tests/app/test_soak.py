"""Sustained use: 300 AppTest reruns with random valid settings in one process.

Resident memory after rerun 300 must be within 15% of that after rerun 50, while the
app's sweep results (``gmm_app.fit_flow.SWEEPS``) come and go, and nothing compiles once
every init method's program exists. The compiled sweep programs and JAX's own dispatch
and jit caches are reported for information.

The settings are random but keep to one compiled shape per init method (about 2000
points, K padded to 6, 4 or 8 restarts, max_iter ≤ 100, full covariances), so after the
first reruns nothing compiles and the run takes a few minutes.
"""

from __future__ import annotations

import gc
import random
import time
from typing import Any

import numpy as np
import psutil
import pytest
from streamlit.testing.v1 import AppTest

import gmm_core
from gmm_app import clusters_editor, fit_flow, params, sweep_cache
from gmm_core import INIT_METHODS
from gmm_core.sweep import PROGRAM_CACHE_SIZE, PROGRAMS
from tests.support.apptest import chart_specs, make_app, run_ok

pytestmark = pytest.mark.usefixtures("navigation_mode")


RERUNS = 300
BASELINE_RERUN = 50
MAX_GROWTH = 0.15
PAGES = (
    ["pages/explore.py"] * 10
    + ["pages/model_selection.py"] * 4
    + ["pages/restarts.py"] * 2
    + ["pages/your_data.py"] * 2
    + ["pages/about.py"]
)
K_RANGES = ((1, 6), (2, 6), (1, 5))  # K padded to 6 and 6 K slots: one shape


def jax_cache_sizes() -> dict[str, tuple[int, int | None]]:
    """JAX's own dispatch and jit caches as ``name -> (size, capacity)``.

    JAX has no public way to count them, so this reads private attributes and leaves
    out any that this JAX version lacks. The app itself defines no jitted function:
    ``gmm_core``'s sweep programs are counted by ``PROGRAMS``.
    """
    from jax._src import dispatch, pjit

    sizes: dict[str, tuple[int, int | None]] = {}
    for name, owner, attribute in (
        ("primitive dispatch", dispatch, "xla_primitive_callable"),
        ("jit trace params", pjit, "_infer_params_cached"),
        ("jit C++ (explicit)", pjit, "_cpp_pjit_cache_explicit_attributes"),
        ("jit C++ (fun only)", pjit, "_cpp_pjit_cache_fun_only"),
    ):
        cache = getattr(owner, attribute, None)
        if hasattr(cache, "cache_info"):
            info = cache.cache_info()  # type: ignore[union-attr]
            sizes[name] = (int(info.currsize), info.maxsize)
        elif hasattr(cache, "size"):
            capacity = getattr(cache, "capacity", None)
            sizes[name] = (int(cache.size()), capacity() if callable(capacity) else capacity)
    return sizes


def random_upload(rng: random.Random) -> bytes:
    """A CSV of 1600–2048 rows in 2 to 4 blobs (the synthetic data's points bucket)."""
    generator = np.random.default_rng(rng.randrange(2**31))
    n = rng.randrange(1600, 2049)
    centres = generator.uniform(-8, 8, size=(rng.randrange(2, 5), 2))
    points = centres[generator.integers(len(centres), size=n)] + generator.normal(size=(n, 2))
    rows = "\n".join(f"{x:.4f},{y:.4f}" for x, y in points)
    return f"u,v\n{rows}\n".encode()


def randomise(at: AppTest, rng: random.Random) -> None:
    """Random valid settings through the widgets, the way a visitor would change them."""
    sidebar = at.sidebar
    choice = rng.random()
    if choice < 0.3:
        sidebar.number_input(key="data_seed").set_value(rng.randrange(10**6))
    elif choice < 0.5:
        sidebar.number_input(key="init_seed").set_value(rng.randrange(10**6))
    elif choice < 0.6:
        sidebar.slider(key="noise").set_value(rng.choice(np.arange(0.5, 2.01, 0.05)).round(2))
    elif choice < 0.7:
        sidebar.select_slider(key="tol").set_value(rng.choice(params.TOL_OPTIONS[:6]))
    elif choice < 0.8:
        sidebar.selectbox(key="init").set_value(rng.choice(INIT_METHODS))
    elif choice < 0.85:
        sidebar.slider(key="k_range").set_value(rng.choice(K_RANGES))
    elif choice < 0.9:
        sidebar.slider(key="restarts").set_value(rng.choice((4, 8)))
    elif choice < 0.95:
        sidebar.number_input(key="max_iter").set_value(rng.randrange(60, 101, 10))
    else:
        sidebar.number_input(key="n").set_value(rng.randrange(1600, 2049))
    if rng.random() < 0.2:  # move a true cluster's centre
        row = rng.randrange(4)
        edit = {"x": round(rng.uniform(-8, 8), 2), "y": round(rng.uniform(-8, 8), 2)}
        at.session_state[clusters_editor.TABLE_EDITOR_KEY] = {
            "edited_rows": {row: edit},
            "added_rows": [],
            "deleted_rows": [],
        }


def view_choices(at: AppTest, rng: random.Random) -> None:
    """Random K, restart, ellipse radii and tab on a page that shows a fit."""
    keys = [box.key for box in at.selectbox]
    if "k" not in keys or "restart" not in keys:
        return
    settings = at.session_state["settings"]
    k_values = range(settings.fit.k_min, settings.fit.k_max + 1)
    at.selectbox(key="k").set_value(rng.choice([params.BIC_CHOICE, *k_values]))
    restarts = range(settings.fit.n_restarts)
    at.selectbox(key="restart").set_value(rng.choice([params.BEST_RESTART, *restarts]))
    if "sigmas" in [box.key for box in at.multiselect]:
        at.multiselect(key="sigmas").set_value(rng.sample([1, 2, 3], rng.randrange(4)))
    at.session_state["tab"] = rng.choice(params.TAB_OPTIONS)


def rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


@pytest.mark.slow
def test_300_reruns_keep_memory_and_caches_bounded(record_property: Any) -> None:
    rng = random.Random(20261126)
    at = run_ok(make_app({"preset": "four_blobs"}))  # its edits move one of four rows
    page = "pages/explore.py"
    started = time.perf_counter()
    compilations_at: dict[int, int] = {}
    rss_at: dict[int, int] = {}
    jax_at: dict[int, dict[str, tuple[int, int | None]]] = {}
    pages_seen: set[str] = set()
    for rerun in range(1, RERUNS + 1):
        action = rng.random()
        if action < 0.25:
            page = rng.choice(PAGES)
            at.switch_page(page)
        elif action < 0.45 and page in ("pages/explore.py", "pages/your_data.py"):
            view_choices(at, rng)
        else:
            randomise(at, rng)
        at.run()
        assert not at.exception, (rerun, [e.value for e in at.exception])
        assert not at.error, (rerun, [e.value for e in at.error])
        if page == "pages/your_data.py" and (not chart_specs(at) or rng.random() < 0.3):
            at.file_uploader[0].upload("soak.csv", random_upload(rng), "text/csv")
            at.run()
            assert not at.exception and not at.error, rerun
        pages_seen.add(page)
        if rerun in (BASELINE_RERUN, RERUNS):
            rss_at[rerun] = rss()
            compilations_at[rerun] = gmm_core.compilation_count()
            jax_at[rerun] = jax_cache_sizes()
    duration = time.perf_counter() - started
    ratio = rss_at[RERUNS] / rss_at[BASELINE_RERUN]
    jax_caches = ", ".join(
        f"{name} {jax_at[BASELINE_RERUN][name][0]} -> {size} (capacity {capacity})"
        for name, (size, capacity) in jax_at[RERUNS].items()
    )
    lines = [
        f"{RERUNS} reruns in {duration:.0f} s over {len(pages_seen)} pages",
        f"RSS after rerun {BASELINE_RERUN} {rss_at[BASELINE_RERUN] / 2**20:.0f} MiB, after "
        f"rerun {RERUNS} {rss_at[RERUNS] / 2**20:.0f} MiB, ratio {ratio:.3f}",
        f"compiled sweep programs cached {len(PROGRAMS)} (capacity {PROGRAM_CACHE_SIZE}), "
        f"compilations {compilations_at[BASELINE_RERUN]} by rerun {BASELINE_RERUN} and "
        f"{compilations_at[RERUNS]} by rerun {RERUNS}",
        f"sweep results cached {len(fit_flow.SWEEPS)} (capacity "
        f"{sweep_cache.SWEEP_CACHE_ENTRIES}), {fit_flow.SWEEPS.n_bytes / 2**20:.1f} MiB",
        f"JAX caches from rerun {BASELINE_RERUN} to {RERUNS}: {jax_caches}",
    ]
    print("\nsoak: " + "\n  ".join(lines))
    for line in lines:
        record_property("figure", f"soak: {line}")
    assert ratio <= 1 + MAX_GROWTH
    # Nothing new to compile once every init method's program exists.
    assert compilations_at[RERUNS] - compilations_at[BASELINE_RERUN] <= 1
    # The settings varied enough to make the sweep cache evict, so the memory bound above
    # held while results came and went rather than while the cache was still filling.
    assert fit_flow.SWEEPS.evictions > 0, "the soak never filled the sweep cache"
