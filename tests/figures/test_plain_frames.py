"""Animation frames kept as plain dicts: the JSON of checked frames, at a fraction of the cost."""

from __future__ import annotations

import json
import time

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from gmm_figures import fit_animation_figure
from gmm_figures.plain_frames import PlainFramesFigure, new_figure
from gmm_figures.presenter import scale_for_presenter


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


def _checked_copy(figure: go.Figure) -> go.Figure:
    """The same figure with every frame built and checked by Plotly."""
    return go.Figure(figure.to_dict())


def test_plain_frames_serialise_exactly_as_checked_frames() -> None:
    X, inputs = _animation_inputs()
    figure = fit_animation_figure(X, **inputs)
    assert isinstance(figure, PlainFramesFigure)
    plain = json.loads(pio.to_json(figure))
    assert len(plain["frames"]) == 64
    checked = json.loads(pio.to_json(_checked_copy(figure)))
    assert plain["frames"] == checked["frames"]
    assert plain["data"] == checked["data"]
    assert plain["layout"] == checked["layout"]  # the template expanded, as Plotly.js needs
    assert isinstance(plain["layout"]["template"], dict)


def _variants() -> dict[str, tuple[np.ndarray, dict]]:
    """Fit animations whose builders take other paths: notes, no truth, one frame, a
    degenerate component, a title."""
    X, inputs = _animation_inputs(n_frames=6, n_restarts=3)
    with_notes = X.copy()
    with_notes[:5] = np.nan  # dropped rows, noted under the figure
    collapsed = inputs["snapshot_covariances"].copy()
    collapsed[:, 1] = np.nan  # a component that cannot be drawn
    return {
        "plain": (X, inputs),
        "notes": (with_notes, inputs),
        "no truth": (X, {**inputs, "true_means": None, "true_covariances": None}),
        "one frame": (
            X,
            {
                **inputs,
                "snapshot_iterations": [0],
                "snapshot_weights": inputs["snapshot_weights"][:1],
                "snapshot_means": inputs["snapshot_means"][:1],
                "snapshot_covariances": inputs["snapshot_covariances"][:1],
            },
        ),
        "invalid component": (X, {**inputs, "snapshot_covariances": collapsed}),
        "title": (X, {**inputs, "title": "EM iterations, K = 3", "n_sigmas": (1.0,)}),
    }


@pytest.mark.parametrize("variant", list(_variants()))
def test_an_unchecked_build_gives_the_json_of_a_checked_one(
    variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gmm_figures import style

    X, inputs = _variants()[variant]
    assert not style.CHECK_FIGURES  # the default: Plotly checks nothing while building
    unchecked = json.loads(pio.to_json(fit_animation_figure(X, **inputs)))
    monkeypatch.setattr(style, "CHECK_FIGURES", True)
    checked = json.loads(pio.to_json(fit_animation_figure(X, **inputs)))
    assert unchecked == checked


def test_reading_frames_gives_checked_frame_objects() -> None:
    X, inputs = _animation_inputs(n_frames=5)
    figure = fit_animation_figure(X, **inputs)
    before = figure.to_dict()
    frames = figure.frames
    assert len(frames) == 5 and all(isinstance(frame, go.Frame) for frame in frames)
    assert [frame.name for frame in frames] == ["0", "1", "2", "3", "4"]
    assert figure.to_dict() == before


def test_to_dict_hands_out_a_copy_that_cannot_change_the_figure() -> None:
    X, inputs = _animation_inputs(n_frames=3)
    figure = fit_animation_figure(X, **inputs)
    spec = figure.to_dict()
    spec["frames"][0]["data"][0]["x"][0] = 1e9
    assert figure.to_dict()["frames"][0]["data"][0]["x"][0] != 1e9


def test_non_finite_frame_values_and_foreign_objects_are_rejected() -> None:
    figure = PlainFramesFigure()
    with pytest.raises(ValueError):
        figure.set_plain_frames([{"name": "0", "data": [{"type": "scatter", "x": [np.nan]}]}])
    with pytest.raises(TypeError, match="not a JSON value"):
        figure.set_plain_frames([{"name": "0", "data": [{"x": object()}]}])


def test_assigning_frames_replaces_the_plain_ones() -> None:
    figure = PlainFramesFigure()
    figure.set_plain_frames([{"name": "a", "data": [{"type": "scatter", "x": [1]}]}])
    figure.frames = [go.Frame(name="b", data=[go.Scatter(x=[2])])]
    assert [frame["name"] for frame in figure.to_dict()["frames"]] == ["b"]


def test_presenter_scaling_keeps_frames_plain_and_scales_them() -> None:
    X, inputs = _animation_inputs(n_frames=4)
    figure = fit_animation_figure(X, **inputs)
    scaled = scale_for_presenter(figure)
    assert isinstance(scaled, PlainFramesFigure)
    frames = scaled.to_dict()["frames"]
    assert len(frames) == 4
    assert frames == json.loads(pio.to_json(_checked_copy(scaled)))["frames"]


def test_plain_frames_build_the_animation_faster_than_checked_ones() -> None:
    X, inputs = _animation_inputs()
    fit_animation_figure(X, **inputs)
    plain, checked = [], []
    for _ in range(3):
        start = time.perf_counter()
        figure = fit_animation_figure(X, **inputs)
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        figure.frames = figure.to_dict()["frames"]
        checked.append(plain[-1] + time.perf_counter() - start)
    print(f"animation build: plain frames {min(plain):.3f} s, checked {min(checked):.3f} s")
    assert min(plain) < min(checked)


def test_an_unchecked_figure_adds_traces_without_checking_them_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gmm_figures import style

    odd = go.Scatter(x=[1.0], y=[2.0], marker={"color": ["no such colour"]}, _validate=False)
    monkeypatch.setattr(style, "CHECK_FIGURES", False)
    unchecked = new_figure()
    unchecked.add_trace(odd)
    assert unchecked.to_dict()["data"][0]["marker"]["color"] == ["no such colour"]
    monkeypatch.setattr(style, "CHECK_FIGURES", True)
    with pytest.raises(ValueError, match="color"):
        new_figure().add_trace(odd)
