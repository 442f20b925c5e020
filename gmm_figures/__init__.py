"""Plotly figures for GMM Explorer: pure functions from arrays to ``go.Figure`` or, where
they hold thousands of values (the animations, the EM step, the panels, the uncertainty view,
the restart grid), to a plain figure dict (``{"data", "layout", "frames"}``), which
``st.plotly_chart``, ``plotly.io`` and Plotly.react take as it is.

No Streamlit here. Every builder validates its inputs: non-finite points are dropped and
non-finite components skipped (both reported in a small ``"notes"`` annotation), and an
input with nothing finite in it raises ``ValueError``; no NaN or infinity reaches a figure.

Must not import streamlit or gmm_app (``tests/test_layers.py``).
"""

from gmm_figures.animation import fit_animation_figure
from gmm_figures.curves import log_likelihood_figure, model_selection_figure
from gmm_figures.densities import (
    mixture_animation_figure,
    mixture_histogram_figure,
    restart_density_grid_figure,
)
from gmm_figures.ellipses import (
    component_colors_from_matching,
    ellipse_figure,
)
from gmm_figures.restart_stats import final_log_likelihood_histogram, init_comparison_figure
from gmm_figures.restarts import restart_grid_figure
from gmm_figures.spatial import AXIS_TITLES
from gmm_figures.style import PALETTE, apply_layout, color_for, sanitize_points, to_html

__all__ = [
    "AXIS_TITLES",
    "PALETTE",
    "apply_layout",
    "color_for",
    "component_colors_from_matching",
    "ellipse_figure",
    "final_log_likelihood_histogram",
    "fit_animation_figure",
    "init_comparison_figure",
    "mixture_animation_figure",
    "mixture_histogram_figure",
    "log_likelihood_figure",
    "model_selection_figure",
    "restart_density_grid_figure",
    "restart_grid_figure",
    "sanitize_points",
    "to_html",
]
