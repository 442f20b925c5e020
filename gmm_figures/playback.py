"""The Play/Pause menu and the iteration slider of an animated figure.

Pure: Plotly layout dictionaries only; must not import Streamlit or ``gmm_app``.
"""

from __future__ import annotations

import numpy as np

from gmm_figures.style import SMALL_FONT_SIZE

FRAME_DURATION_MS = 150


def _animation_args(duration_ms: int, redraw: bool = False) -> dict:
    # redraw=False is enough when every animated trace is a plain SVG scatter whose
    # points, opacity and marker colours plotly.js updates in its transition path;
    # heatmaps and contours need redraw=True.
    return {
        "mode": "immediate",
        "frame": {"duration": duration_ms, "redraw": redraw},
        "transition": {"duration": 0},
    }


def play_pause_menu(redraw: bool = False) -> dict:
    return {
        "type": "buttons",
        "direction": "left",
        "showactive": False,
        "x": 0.0,
        "xanchor": "left",
        "y": 0.0,
        "yanchor": "top",
        "pad": {"t": 78, "r": 10},
        "font": {"size": SMALL_FONT_SIZE},
        "buttons": [
            {
                "label": "Play",
                "method": "animate",
                "args": [
                    None,
                    {**_animation_args(FRAME_DURATION_MS, redraw), "fromcurrent": True},
                ],
            },
            {
                "label": "Pause",
                "method": "animate",
                "args": [[None], _animation_args(0, redraw)],
            },
        ],
    }


def iteration_slider(iterations: np.ndarray, redraw: bool = False) -> dict:
    crowded = iterations.size > 24
    return {
        "active": int(iterations.size - 1),
        "x": 0.2,
        "len": 0.8,
        "xanchor": "left",
        "y": 0.0,
        "yanchor": "top",
        "pad": {"t": 60, "b": 0},
        "currentvalue": {
            "prefix": "iteration ",
            "visible": True,
            "xanchor": "left",
            "font": {"size": SMALL_FONT_SIZE + 2, "color": "#222222"},
        },
        # Many steps: hide the crowded step labels; the current value names the iteration.
        "font": {"size": 12, "color": "rgba(0,0,0,0)" if crowded else "#444444"},
        "ticklen": 4 if crowded else 7,
        "steps": [
            {
                "label": str(iteration),
                "method": "animate",
                "args": [[str(iteration)], _animation_args(0, redraw)],
            }
            for iteration in iterations.tolist()
        ],
    }
