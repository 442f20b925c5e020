"""The small-multiples figure builder: colours blend, ellipses per panel, titles."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from gmm_figures.panels import panel_title, panels_figure
from gmm_figures.style import color_for


def _rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


def _rgba(text: str) -> tuple[np.ndarray, float]:
    *rgb, alpha = (float(v) for v in text[5:-1].split(","))
    return np.array(rgb), alpha


def _inputs(n_panels: int, k: int = 2) -> dict:
    rng = np.random.default_rng(3)
    points = rng.normal(size=(7, 2))
    means = rng.normal(size=(n_panels, k, 2))
    covariances = np.broadcast_to(np.eye(2) * 0.5, (n_panels, k, 2, 2)).copy()
    resp = rng.dirichlet(np.ones(k), size=(n_panels, 7))
    return {
        "points": points,
        "means": means,
        "covariances": covariances,
        "responsibilities": resp,
        "component_colors": list(range(k)),
    }


def test_points_take_the_component_colours_blended_by_responsibility() -> None:
    inputs = _inputs(2)
    inputs["responsibilities"][1, 0] = [0.5, 0.5]
    inputs["responsibilities"][1, 1] = [1.0, 0.0]
    inputs["responsibilities"][1, 2] = [0.0, 1.0]
    figure = go.Figure(
        panels_figure(inputs.pop("points"), iterations=[0, 3], last_iteration=9, **inputs)
    )
    data = next(t for t in figure.data if t.name == "data 1")
    half, alpha_half = _rgba(data.marker.color[0])
    np.testing.assert_allclose(half, (_rgb(color_for(0)) + _rgb(color_for(1))) / 2, atol=0.51)
    sure_first, alpha_first = _rgba(data.marker.color[1])
    np.testing.assert_allclose(sure_first, _rgb(color_for(0)), atol=0.51)
    np.testing.assert_allclose(_rgba(data.marker.color[2])[0], _rgb(color_for(1)), atol=0.51)
    assert alpha_first == 1.0 and alpha_half < alpha_first
    assert len(set(data.marker.color)) > 3  # seven points, each its own blend


def test_every_panel_has_its_points_ellipses_means_and_title() -> None:
    inputs = _inputs(5, k=3)
    points = inputs.pop("points")
    figure = go.Figure(
        panels_figure(
            points, iterations=[0, 1, 2, 5, 20], last_iteration=14, n_sigmas=(1.0, 2.0), **inputs
        )
    )
    names = [t.name for t in figure.data]
    for panel in range(5):
        assert names.count(f"data {panel}") == 1
        assert names.count(f"means {panel}") == 1
        ellipses = [n for n in names if n.startswith(f"fit {panel} ")]
        assert sorted(ellipses) == sorted(
            f"fit {panel} {k} {s}σ" for k in range(3) for s in ("1", "2")
        )
        means = next(t for t in figure.data if t.name == f"means {panel}")
        np.testing.assert_allclose(means.x, inputs["means"][panel][:, 0], atol=1e-4)
    titles = [a.text for a in figure.layout.annotations]
    assert titles == [
        "Iteration 0",
        "Iteration 1",
        "Iteration 2",
        "Iteration 5",
        "Iteration 20 (ended at 14)",
    ]
    # Panels side by side on shared ranges, each with equal aspect.
    assert figure.layout.xaxis5.range == figure.layout.xaxis.range
    assert figure.layout.yaxis5.scaleanchor == "x5"


def test_more_than_five_panels_wrap_and_a_source_is_noted() -> None:
    inputs = _inputs(7)
    points = inputs.pop("points")
    figure = go.Figure(
        panels_figure(
            points, iterations=list(range(7)), last_iteration=3, source="Data: here", **inputs
        )
    )
    assert figure.layout.xaxis6.domain[0] == pytest.approx(figure.layout.xaxis.domain[0])
    assert figure.layout.yaxis6.domain[1] < figure.layout.yaxis.domain[0]
    notes = [a.text for a in figure.layout.annotations if a.name == "source"]
    assert notes == ["Data: here"]
    assert panel_title(3, 3) == "Iteration 3" and panel_title(4, 3) == "Iteration 4 (ended at 3)"


def test_mismatched_or_non_finite_inputs_raise() -> None:
    inputs = _inputs(2)
    points = inputs.pop("points")
    with pytest.raises(ValueError, match=r"means must have shape \(3, 2, 2\)"):
        panels_figure(points, iterations=[0, 1, 2], last_iteration=3, **inputs)
    inputs["means"][0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        panels_figure(points, iterations=[0, 1], last_iteration=3, **inputs)
    with pytest.raises(ValueError, match="no iterations"):
        panels_figure(points, iterations=[], last_iteration=3, **inputs)
