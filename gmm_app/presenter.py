"""Presenter mode (``?present=1``): no sidebar, larger type, the main chart above the fold.

Every page calls :func:`page_heading`; :func:`gmm_app.widgets.figure_block` scales its
figures with :func:`figure_for_screen`. Must not import the fit flow, the sidebar or views.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from gmm_app.params import PRESENT
from gmm_figures.presenter import scale_for_presenter

PRESENTER_HEIGHT_PX = 460
PANEL_TITLE_PX = 20
"""Tallest figure in presenter mode: with the choosers and tabs it fits 1280×720."""

_PRESENTER_CSS = """
<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], header[data-testid="stHeader"],
[data-testid="stMain"] [data-testid="stExpander"] { display: none; }
[data-testid="stMain"] [data-testid="stVerticalBlock"] { gap: 0.4rem; }
.block-container, [data-testid="stMainBlockContainer"] { padding-top: 0.6rem; }
[data-testid="stMarkdownContainer"] p, label, button p { font-size: 1.35rem; }
</style>
"""


def presenting() -> bool:
    """Whether the page is shown in presenter mode (``present=1`` in the URL)."""
    return st.query_params.get(PRESENT.key) == PRESENT.label(True)


def page_heading(title: str, caption: str) -> None:
    """The page's title and caption, or in presenter mode the presenter style and a short title."""
    if presenting():
        st.html(_PRESENTER_CSS)
        st.markdown(f"**{title}** · presenter mode (remove `present=1` from the link to leave)")
        return
    st.title(title)
    if caption:
        st.caption(caption)


def figure_for_screen(figure: go.Figure | dict) -> go.Figure | dict:
    """The figure as drawn: 1.5× fonts, lines and markers and a capped height when presenting
    (then as a figure dict)."""
    if not presenting():
        return figure
    scaled = scale_for_presenter(figure, max_height=PRESENTER_HEIGHT_PX)
    layout = scaled["layout"]
    # The page's tabs and choosers name the view; the figure's own title would crowd its legend.
    layout.pop("title", None)
    layout.setdefault("margin", {})["t"] = 80
    for note in layout.get("annotations", ()):  # panel titles must fit their panel
        font = note.setdefault("font", {})
        font["size"] = min(font.get("size") or PANEL_TITLE_PX, PANEL_TITLE_PX)
    return scaled
