"""The one-dimensional figure builders: histogram, component and mixture densities."""

from __future__ import annotations

import json
import math

import numpy as np
import plotly.graph_objects as go
import pytest

import gmm_figures as figures
from gmm_core.mixture import Mixture
from gmm_figures.densities import GRID_POINTS


def _normal(x: np.ndarray, mean: float, variance: float) -> np.ndarray:
    return np.exp(-0.5 * (x - mean) ** 2 / variance) / math.sqrt(2 * math.pi * variance)


def _by_name(fig: object) -> dict:
    return {trace.name: trace for trace in fig.data}  # type: ignore[attr-defined]


def _line(weights: list[float], means: list[float], variances: list[float]) -> Mixture:
    """A 1-D mixture: means (K, 1), variances (K, 1, 1)."""
    return Mixture(weights, np.reshape(means, (-1, 1)), np.reshape(variances, (-1, 1, 1)))


def _data() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.concatenate([rng.normal(-2, 1, 600), rng.normal(2.5, 0.8, 400)])[:, None]


def test_components_are_weighted_densities_that_add_up_to_the_mixture() -> None:
    fig = figures.mixture_histogram_figure(
        _data(),
        mixture=_line([0.6, 0.4], [-2.0, 2.5], [1.0, 0.64]),
        truth=_line([0.5, 0.5], [-2.0, 2.5], [1.0, 0.64]),
        axis_title="waiting",
    )
    traces = _by_name(fig)
    assert {"data", "fit 0 density", "fit 1 density", "fit mixture", "true mixture"} <= set(traces)
    grid = np.asarray(traces["fit 0 density"].x)
    assert grid.size == GRID_POINTS + 2  # the grid and the two fitted means
    np.testing.assert_allclose(traces["fit 0 density"].y, 0.6 * _normal(grid, -2, 1), atol=3e-4)
    total = np.asarray(traces["fit 0 density"].y) + np.asarray(traces["fit 1 density"].y)
    np.testing.assert_allclose(traces["fit mixture"].y, total, atol=3e-4)
    assert traces["true 0 density"].line.dash == "dash"
    assert traces["fit 0 density"].line.dash is None
    # The bars are a density: they integrate to 1.
    bars = traces["data"]
    width = np.diff(np.asarray(bars.x)).mean()
    assert abs(np.sum(bars.y) * width - 1) < 0.02
    assert fig.layout.xaxis.title.text == "waiting"
    json.loads(fig.to_json(), parse_constant=lambda token: pytest.fail(token))


def test_a_collapsed_component_spikes_off_the_top_without_nan() -> None:
    fig = figures.mixture_histogram_figure(
        _data(), mixture=_line([0.9, 0.1, 0.0], [0.0, 1.0, 5.0], [4.0, 1e-12, np.nan])
    )
    top = fig.layout.yaxis.range[1]
    assert max(_by_name(fig)["fit mixture"].y) > top  # the spike leaves the plotted range
    assert "fit 2" in fig.layout.annotations[-1].text  # the invalid component is named
    json.loads(fig.to_json(), parse_constant=lambda token: pytest.fail(token))


def test_the_animation_has_one_frame_per_snapshot_carrying_only_the_fit() -> None:
    snapshots = np.array([0, 1, 3, 10])
    means = np.array([[0.0, 0.1], [-1.0, 1.0], [-1.8, 2.2], [-2.0, 2.5]])
    spec = figures.mixture_animation_figure(
        _data(),
        snapshot_iterations=snapshots,
        snapshot_weights=np.full((4, 2), 0.5),
        snapshot_means=means[..., None],
        snapshot_variances=np.ones((4, 2, 1, 1)),
        component_colors=[1, 0],
    )
    fig = go.Figure(spec)  # Plotly checks the dict: a valid figure
    assert [frame.name for frame in fig.frames] == ["0", "1", "3", "10"]
    names = [trace.name for trace in fig.data]
    moving = list(fig.frames[0].traces)
    assert [names[i] for i in moving] == ["fit mixture", "fit 0 density", "fit 1 density"]
    grid = np.asarray(fig.frames[1].data[1].x)
    np.testing.assert_allclose(fig.frames[1].data[1].y, 0.5 * _normal(grid, -1, 1), atol=3e-4)
    # The figure as built shows the last snapshot.
    np.testing.assert_allclose(fig.data[moving[1]].y, fig.frames[-1].data[1].y)
    assert fig.layout.sliders[0].steps[-1].label == "10"


def test_the_restart_grid_has_one_panel_per_restart() -> None:
    fig = figures.restart_density_grid_figure(
        _data(),
        weights=np.array([[0.6, 0.4], [1.0, 0.0], [0.5, 0.5]]),
        means=np.array([[-2.0, 2.5], [0.0, 0.0], [-1.0, 1.0]]),
        variances=np.ones((3, 2)),
        final_log_likelihood=[-1.9, -2.2, np.nan],
    )
    names = {trace.name for trace in fig.data}
    assert {"restart 0 mixture", "restart 1 mixture", "restart 2 mixture"} <= names
    assert "restart 1 fit 1" not in names  # weight 0: not drawn
    titles = [a.text for a in fig.layout.annotations]
    assert "restart 0: -1.9000" in titles and "restart 2: —" in titles


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="every fitted component"):
        figures.mixture_histogram_figure(_data(), mixture=_line([0.0], [0.0], [1.0]))
    with pytest.raises(ValueError, match="shape"):
        figures.mixture_histogram_figure(np.zeros((5, 2)), mixture=_line([1.0], [0.0], [1.0]))
    with pytest.raises(ValueError, match="1-D mixture"):
        figures.mixture_histogram_figure(_data(), mixture=Mixture([1.0], [[0.0, 0.0]], [np.eye(2)]))
