"""The builders that return plain figure dicts: valid Plotly figures, and fast to build."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from gmm_figures import (
    fit_animation_figure,
    mixture_animation_figure,
    restart_grid_figure,
    to_html,
)
from gmm_figures.em_step import em_step_figure
from gmm_figures.panels import panels_figure
from gmm_figures.presenter import scale_for_presenter
from gmm_figures.uncertainty import uncertainty_figure

PACKAGE = Path(__file__).resolve().parents[2] / "gmm_figures"


def _animation_inputs(n_frames: int = 64, n_restarts: int = 8) -> tuple[np.ndarray, dict]:
    rng = np.random.default_rng(0)
    k = 3
    true_means = rng.normal(size=(k, 2)) * 3
    inputs = {
        "labels": rng.integers(0, k, 900),
        "true_means": true_means,
        "true_covariances": np.tile(np.eye(2), (k, 1, 1)),
        "snapshot_iterations": np.arange(n_frames),
        "snapshot_weights": np.full((n_frames, k), 1 / k),
        "snapshot_means": true_means + rng.normal(size=(n_frames, k, 2)) * 0.1,
        "snapshot_covariances": np.tile(np.eye(2), (n_frames, k, 1, 1)) * 1.1,
        "initial_means": true_means + 1,
        "traces": -3 + np.cumsum(rng.random((n_restarts, n_frames)) * 0.01, axis=1),
        "highlighted_restart": 0,
    }
    return rng.normal(size=(900, 2)) * 2, inputs


def _animations() -> dict[str, tuple[np.ndarray, dict]]:
    """Fit animations whose builders take other paths: notes, no truth, one frame, a
    degenerate component, a title."""
    X, inputs = _animation_inputs(n_frames=6, n_restarts=3)
    with_notes = X.copy()
    with_notes[:5] = np.nan  # dropped rows, noted under the figure
    collapsed = inputs["snapshot_covariances"].copy()
    collapsed[:, 1] = np.nan  # a component that cannot be drawn
    first = {
        name: inputs[name][:1]
        for name in ("snapshot_weights", "snapshot_means", "snapshot_covariances")
    }
    return {
        "plain": (X, inputs),
        "notes": (with_notes, inputs),
        "no truth": (X, {**inputs, "true_means": None, "true_covariances": None}),
        "one frame": (X, {**inputs, "snapshot_iterations": [0], **first}),
        "invalid component": (X, {**inputs, "snapshot_covariances": collapsed}),
        "title": (X, {**inputs, "title": "EM iterations, K = 3", "n_sigmas": (1.0,)}),
    }


def _dict_figures() -> dict[str, dict[str, Any]]:
    """Every builder that returns a figure dict, on small inputs."""
    rng = np.random.default_rng(1)
    points = rng.normal(size=(300, 2))
    resp = rng.dirichlet([1.0, 1.0], 300)
    means = np.array([[-1.0, 0.0], [1.0, 0.5]])
    covariances = np.stack([np.eye(2), 0.5 * np.eye(2)])
    figures = {
        f"fit animation, {name}": fit_animation_figure(X, **inputs)
        for name, (X, inputs) in _animations().items()
    }
    figures["mixture animation"] = mixture_animation_figure(
        rng.normal(size=400),
        snapshot_iterations=[0, 2, 5],
        snapshot_weights=np.full((3, 2), 0.5),
        snapshot_means=np.array([[-1.0, 1.0], [-1.5, 1.2], [-2.0, 2.0]]),
        snapshot_variances=np.ones((3, 2)),
    )
    step = {"means": means, "covariances": covariances, "component_colors": [0, 1]}
    figures["E step"] = em_step_figure(
        points,
        **step,
        log_likelihood=[-3.0, -2.5, -2.4],
        iteration=2,
        stage="E step",
        responsibilities=resp,
    )
    figures["M step"] = em_step_figure(
        points,
        **step,
        log_likelihood=[-3.0, -2.5],
        iteration=1,
        stage="M step",
        previous_means=means + 0.3,
        previous_covariances=covariances,
    )
    figures["panels"] = panels_figure(
        points,
        iterations=[0, 3],
        last_iteration=3,
        means=np.stack([means, means]),
        covariances=np.stack([covariances, covariances]),
        responsibilities=np.stack([resp, resp]),
        component_colors=[0, 1],
        source="Data: here",
    )
    figures["restart grid"] = restart_grid_figure(
        points,
        means=np.stack([means, means[::-1]]),
        covariances=np.stack([covariances, covariances]),
        weights=np.array([[0.5, 0.5], [0.9999, 1e-4]]),
        final_log_likelihood=[-3.0, np.nan],
        labels=(points[:, 0] > 0).astype(int),
    )
    params = {"weights": [[0.5, 0.5]] * 2, "means": [means] * 2, "covariances": [covariances] * 2}
    figures["uncertainty"] = uncertainty_figure(points, [0, 4], np.stack([resp, resp]), **params)
    figures["uncertainty, still"] = uncertainty_figure(
        points, [4], resp[None], **{name: value[:1] for name, value in params.items()}
    )
    return figures


DICT_FIGURES = _dict_figures()


@pytest.mark.parametrize("name", list(DICT_FIGURES))
def test_a_figure_dict_is_a_figure_plotly_accepts_unchanged(name: str) -> None:
    spec = DICT_FIGURES[name]
    assert set(spec) <= {"data", "layout", "frames"}
    text = json.dumps(spec, allow_nan=False)  # plain JSON values, nothing non-finite
    checked = go.Figure(spec, skip_invalid=False)  # raises on any property Plotly rejects
    assert json.loads(checked.to_json()) == json.loads(text)  # Plotly's check changes nothing
    assert isinstance(spec["layout"]["template"], dict)  # expanded, as Plotly.js needs


@pytest.mark.parametrize("name", ["fit animation, plain", "mixture animation"])
def test_animation_frames_move_the_last_traces(name: str) -> None:
    spec = DICT_FIGURES[name]
    n_traces = len(spec["data"])
    for frame in spec["frames"]:
        assert len(frame["data"]) == len(frame["traces"])
        assert frame["traces"] == list(range(n_traces - len(frame["traces"]), n_traces))
    assert spec["layout"]["sliders"][0]["steps"][-1]["args"][0] == [spec["frames"][-1]["name"]]


def test_presenter_scaling_copies_a_figure_dict_and_scales_its_frames() -> None:
    spec = DICT_FIGURES["fit animation, plain"]
    before = json.dumps(spec)
    scaled = scale_for_presenter(spec, max_height=460)
    assert json.dumps(spec) == before  # the builder's dict is left alone
    assert scaled["layout"]["height"] == 460
    widths = [trace["line"]["width"] for trace in spec["data"] if "line" in trace]
    assert [t["line"]["width"] for t in scaled["data"] if "line" in t] == [w * 1.5 for w in widths]
    go.Figure(scaled, skip_invalid=False)
    assert len(scaled["frames"]) == len(spec["frames"])


def test_a_figure_dict_downloads_as_html() -> None:
    html = to_html(DICT_FIGURES["mixture animation"])
    assert "<html>" in html and html.count('"traces":[1,2,3]') == 3  # every frame


def test_no_private_plotly_api_in_the_figures() -> None:
    for path in PACKAGE.glob("*.py"):
        text = path.read_text()
        assert "_plotly_utils" not in text, path.name
        assert not re.search(r"\b_validate\b", text), path.name


def test_the_animation_builds_as_a_dict_faster_than_plotly_checks_it() -> None:
    X, inputs = _animation_inputs()
    fit_animation_figure(X, **inputs)
    built, checked = [], []
    for _ in range(3):
        start = time.perf_counter()
        spec = fit_animation_figure(X, **inputs)
        pio.to_json(spec, validate=False)
        built.append(time.perf_counter() - start)
        start = time.perf_counter()
        go.Figure(spec)
        checked.append(time.perf_counter() - start)
    print(
        f"fit animation (64 frames, 8 restarts, 900 points): build + JSON {min(built):.3f} s; "
        f"Plotly checking the same figure {min(checked):.3f} s"
    )
    assert min(built) < 1.0  # loose, for a loaded machine: catches a build several times slower
