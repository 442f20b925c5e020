"""Once per server: the pages' modules imported, then set aside from the garbage collector.

A redraw allocates many small objects (Plotly's figure objects), and so sets off Python's
full (generation 2) collections. Each walks every object the server holds, and most of
those belong to the modules of Streamlit, Plotly, pandas and NumPy: 0.1–0.18 s, on most
slider moves at the default settings (timed with a ``gc.callbacks`` hook in the server).
:func:`set_aside_imports` imports the pages' modules, collects, then moves every object
alive into the collector's permanent generation (``gc.freeze``), so later collections walk
only what the pages create. Reference counting still frees frozen objects; only cycles
among them are never collected, and at start-up those are modules and their tables.

Must not import JAX: compiled work lives in gmm_core (``tests/test_layers.py``).
"""

from __future__ import annotations

import gc
import importlib

#: What the pages import beyond the sidebar (the figures, the views, pandas through them).
PAGE_MODULES = (
    "gmm_figures",
    "gmm_app.explorer",
    "gmm_app.restarts_view",
    "gmm_app.upload_view",
    "gmm_app.summaries",
    "gmm_app.fit_notes",
    "gmm_app.placed_means",
    "gmm_app.labels",
)

_SET_ASIDE: list[int] = []


def set_aside_imports() -> int:
    """Import :data:`PAGE_MODULES`, collect, and freeze what is alive (once per process).

    Returns
    -------
    How many objects the collector no longer walks.
    """
    if not _SET_ASIDE:
        for name in PAGE_MODULES:
            importlib.import_module(name)
        gc.collect()
        gc.freeze()
        _SET_ASIDE.append(gc.get_freeze_count())
    return _SET_ASIDE[0]
