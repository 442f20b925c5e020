"""Tests for gmm_figures: every figure built from a real sweep, checked through its JSON."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pytest

from gmm_core import PRESETS, SweepResult, sweep
from gmm_core.mixture import Mixture
from gmm_figures import (
    PALETTE,
    apply_layout,
    color_for,
    component_colors_from_matching,
    ellipse_figure,
    final_log_likelihood_histogram,
    fit_animation_figure,
    init_comparison_figure,
    log_likelihood_figure,
    model_selection_figure,
    restart_grid_figure,
    sanitize_points,
    to_html,
)
from tests.support.figures import figure_numbers

SIGMAS = (1.0, 2.0, 3.0)
SIGMA_LABELS = ("1σ", "2σ", "3σ")


# ----------------------------------------------------------------------------------------
# Fixtures: one real data set and two real sweeps (each compiles once).


class Fitted:
    """Data, truth and a sweep, plus the arrays a figure of one K needs."""

    def __init__(self, result: SweepResult) -> None:
        spec = PRESETS["four_blobs"]
        self.X, self.labels = spec.sample(seed=0)
        self.true_means = spec.means
        self.true_covariances = spec.covariances
        self.result = result

    def restart(self, k: int) -> int:
        return int(self.result.best_restart()[self.result.k_index(k)])

    def animation_kwargs(self, k: int) -> dict[str, Any]:
        result, row, best = self.result, self.result.k_index(k), self.restart(k)
        return {
            "labels": self.labels,
            "true_means": self.true_means,
            "true_covariances": self.true_covariances,
            "snapshot_iterations": result.snapshot_iterations,
            "snapshot_weights": result.snapshots.weights[row, best, :, :k],
            "snapshot_means": result.snapshots.means[row, best, :, :k],
            "snapshot_covariances": result.snapshots.covariances[row, best, :, :k],
            "initial_means": result.initial.means[row, best, :k],
            "traces": result.log_likelihood[row],
            "highlighted_restart": best,
            "component_colors": component_colors_from_matching(
                self.true_means,
                result.final.means[row, best, :k],
                result.final.weights[row, best, :k],
            ),
        }

    def static_kwargs(self, k: int) -> dict[str, Any]:
        return {
            "labels": self.labels,
            "true_means": self.true_means,
            "true_covariances": self.true_covariances,
            "mixture": self.result.mixture(k, self.restart(k)),
        }


@pytest.fixture(scope="module")
def fitted() -> Fitted:
    """K = 1..6 with 8 restarts and 64 snapshots: K = 4 is the app's default view."""
    X, _ = PRESETS["four_blobs"].sample(seed=0)
    return Fitted(sweep(X, 1, 6, 8, seed=0, snapshots=64))


@pytest.fixture(scope="module")
def animation_k6(fitted: Fitted) -> tuple[dict[str, Any], go.Figure]:
    kwargs = fitted.animation_kwargs(6)
    return kwargs, go.Figure(fit_animation_figure(fitted.X, **kwargs, title="EM"))


@pytest.fixture(scope="module")
def default_view(fitted: Fitted) -> go.Figure:
    return go.Figure(fit_animation_figure(fitted.X, **fitted.animation_kwargs(4)))


# ----------------------------------------------------------------------------------------
# Helpers


def _assert_all_finite(fig: go.Figure) -> None:
    """No NaN or inf anywhere: plotly's to_json would silently turn them into null."""
    values = figure_numbers(fig)
    assert values.size > 0
    assert np.all(np.isfinite(values))


def _trace_names(fig: go.Figure) -> list[str]:
    return [trace.name for trace in fig.data]


def _notes(fig: go.Figure) -> str:
    return " | ".join(a.text for a in fig.layout.annotations if a.name == "notes")


def _contrast_with_white(color: str) -> float:
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


# ----------------------------------------------------------------------------------------
# style


def test_palette_is_large_distinct_and_readable_on_white() -> None:
    assert len(PALETTE) >= 10
    assert len(set(PALETTE)) == len(PALETTE)
    assert all(re.fullmatch(r"#[0-9A-F]{6}", color) for color in PALETTE)
    assert min(_contrast_with_white(color) for color in PALETTE) >= 3.0
    assert color_for(0) == PALETTE[0]
    assert color_for(len(PALETTE) + 2) == PALETTE[2]


def test_apply_layout_sets_large_fonts_light_template_and_height() -> None:
    fig = apply_layout(go.Figure(go.Scatter(x=[0, 1], y=[0, 1])), title="hello", height=400)
    assert fig.layout.font.size >= 16
    assert fig.layout.title.text == "hello"
    assert fig.layout.height == 400
    assert fig.layout.template.layout.paper_bgcolor == "white"
    untitled = apply_layout(go.Figure())
    assert untitled.layout.title.text is None
    assert untitled.layout.height == 560


def test_to_html_is_standalone() -> None:
    html = to_html(go.Figure(go.Scatter(x=[0, 1], y=[2, 3])))
    assert html.lstrip().lower().startswith(("<!doctype html>", "<html"))
    assert html.rstrip().endswith("</html>")
    assert '<script src="https://cdn.plot.ly' not in html
    assert len(html) > 1_000_000  # plotly.js is inlined


def test_sanitize_points_drops_non_finite_rows() -> None:
    X = np.arange(12.0).reshape(6, 2)
    X[1, 0], X[4, 1], X[5, 0] = np.nan, np.inf, -np.inf
    kept, dropped = sanitize_points(X)
    assert dropped == 3
    np.testing.assert_array_equal(kept, X[[0, 2, 3]])
    with pytest.raises(ValueError):
        sanitize_points(np.zeros(3))


# ----------------------------------------------------------------------------------------
# component colours


def test_component_colors_follow_the_matching(fitted: Fitted) -> None:
    result, row, best = fitted.result, fitted.result.k_index(4), fitted.restart(4)
    means, weights = result.final.means[row, best, :4], result.final.weights[row, best, :4]
    colors = component_colors_from_matching(fitted.true_means, means, weights)
    # Each component takes the index of the true cluster nearest to it (well separated).
    nearest = np.argmin(
        np.linalg.norm(means[:, None, :] - fitted.true_means[None, :, :], axis=-1), axis=1
    )
    np.testing.assert_array_equal(colors, nearest)
    permutation = np.array([2, 0, 3, 1])
    permuted = component_colors_from_matching(
        fitted.true_means, means[permutation], weights[permutation]
    )
    np.testing.assert_array_equal(permuted, colors[permutation])


def test_unmatched_and_dead_components_get_fresh_colours(fitted: Fitted) -> None:
    result, row, best = fitted.result, fitted.result.k_index(6), fitted.restart(6)
    weights = result.final.weights[row, best, :6].copy()
    weights[5] = 0.0  # a dead component never steals a true cluster
    means = result.final.means[row, best, :6]
    colors = component_colors_from_matching(fitted.true_means, means, weights)
    assert sorted(colors.tolist()) == [0, 1, 2, 3, 4, 5]
    assert colors[5] >= 4
    assert component_colors_from_matching(None, means, weights).tolist() == list(range(6))


# ----------------------------------------------------------------------------------------
# fit animation


def test_animation_traces_are_named_and_counted(
    animation_k6: tuple[dict[str, Any], go.Figure],
) -> None:
    kwargs, fig = animation_k6
    names = _trace_names(fig)
    true_names = [f"true {i} {s}" for i in range(4) for s in SIGMA_LABELS]
    fit_names = [f"fit {k} {s}" for k in range(6) for s in SIGMA_LABELS]
    assert [n for n in names if n.startswith("true ")] == true_names
    assert [n for n in names if n.startswith("fit ") and n != "fit means"] == fit_names
    assert names.count("data") == 1
    assert names.count("initial means") == 1
    assert names.count("fit means") == 1
    restarts = [n for n in names if n.startswith("restart ")]
    assert len(restarts) == 8
    highlighted = kwargs["highlighted_restart"]
    assert [n for n in restarts if "highlighted" in n] == [f"restart {highlighted} (highlighted)"]
    for trace in fig.data:
        if trace.name.startswith("true "):
            assert trace.line.dash == "dash"
        if trace.name.startswith("fit ") and trace.name != "fit means":
            assert trace.line.dash is None
    # The two panels: data on x/y with equal aspect, curves on x2/y2.
    assert {fig.data[names.index(n)].xaxis or "x" for n in fit_names} == {"x"}  # x: the default
    assert {fig.data[names.index(n)].xaxis for n in restarts} == {"x2"}
    assert fig.layout.yaxis.scaleanchor == "x"
    assert fig.layout.xaxis2.title.text == "EM iteration"
    assert fig.layout.yaxis2.title.text == "mean log-likelihood"


def test_animation_frames_update_only_the_moving_traces(
    fitted: Fitted, animation_k6: tuple[dict[str, Any], go.Figure]
) -> None:
    _, fig = animation_k6
    iterations = fitted.result.snapshot_iterations
    assert len(fig.frames) == len(iterations) <= 150
    assert [frame.name for frame in fig.frames] == [str(i) for i in iterations]
    names = _trace_names(fig)
    moving = {i for i, n in enumerate(names) if n.startswith(("fit ", "restart "))}
    for frame in fig.frames:
        assert set(frame.traces) == moving
        assert len(frame.data) == len(frame.traces)
        for trace in frame.data:
            for axis in (trace.x, trace.y):
                assert len(axis) >= 1
                assert all(v is not None and math.isfinite(v) for v in axis)
    _assert_all_finite(fig)
    # The base figure shows the last snapshot: identical to the last frame.
    last = fig.frames[-1]
    for index, trace in zip(last.traces, last.data, strict=True):
        assert tuple(fig.data[index].x) == tuple(trace.x)
        assert tuple(fig.data[index].y) == tuple(trace.y)


def test_animation_curves_grow_with_the_iteration(
    fitted: Fitted, animation_k6: tuple[dict[str, Any], go.Figure]
) -> None:
    kwargs, fig = animation_k6
    names = _trace_names(fig)
    highlighted = names.index(f"restart {kwargs['highlighted_restart']} (highlighted)")
    lengths = []
    for frame in fig.frames:
        curve = frame.data[list(frame.traces).index(highlighted)]
        assert max(curve.x) <= int(frame.name)
        lengths.append(len(curve.x))
    assert lengths[0] == 1
    assert lengths == sorted(lengths)
    assert lengths[-1] > 1
    # Values are the traces, rounded.
    row = fitted.result.k_index(6)
    expected = fitted.result.log_likelihood[row, kwargs["highlighted_restart"], : lengths[-1]]
    np.testing.assert_allclose(curve.y, expected, atol=1e-4)  # the last frame's curve


def test_animation_controls(fitted: Fitted, default_view: go.Figure) -> None:
    fig = default_view
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["Play", "Pause"]
    assert all(b.method == "animate" for b in buttons)
    assert buttons[0].args[0] is None and buttons[0].args[1]["frame"]["redraw"] is False
    slider = fig.layout.sliders[0]
    iterations = fitted.result.snapshot_iterations
    assert [s.label for s in slider.steps] == [str(i) for i in iterations]
    assert [list(s.args[0]) for s in slider.steps] == [[str(i)] for i in iterations]
    assert slider.currentvalue.prefix == "iteration "
    assert slider.active == len(iterations) - 1


def test_animation_caps_frames_and_fades_light_components(fitted: Fitted) -> None:
    kwargs = fitted.animation_kwargs(4)
    repeats = 3  # 64 snapshots * 3 = 192 > 150
    kwargs["snapshot_iterations"] = np.arange(64 * repeats)
    for key in ("snapshot_weights", "snapshot_means", "snapshot_covariances"):
        kwargs[key] = np.repeat(kwargs[key], repeats, axis=0)
    kwargs["snapshot_weights"] = kwargs["snapshot_weights"].copy()
    kwargs["snapshot_weights"][-1, 2] = 1e-4
    fig = go.Figure(fit_animation_figure(fitted.X, **kwargs))
    assert len(fig.frames) == 150
    assert fig.frames[0].name == "0" and fig.frames[-1].name == str(64 * repeats - 1)
    names = _trace_names(fig)
    faint = fig.data[names.index("fit 2 1σ")]
    solid = fig.data[names.index("fit 1 1σ")]
    assert faint.opacity == pytest.approx(0.3)
    assert solid.opacity == pytest.approx(1.0)
    assert (
        fig.frames[0].data[list(fig.frames[0].traces).index(names.index("fit 2 1σ"))].opacity == 1
    )


def test_default_view_json_is_small(fitted: Fitted, default_view: go.Figure) -> None:
    fig = default_view
    assert len(fitted.X) == 2000 and len(fig.frames) == 64
    size = len(fig.to_json())
    print(f"default view JSON: {size / 1e6:.3f} MB")
    assert size < 2_000_000


def test_animation_drops_non_finite_points_and_components(fitted: Fitted) -> None:
    kwargs = fitted.animation_kwargs(4)
    X = fitted.X.copy()
    X[[3, 10, 99], 1] = [np.nan, np.inf, -np.inf]
    kwargs["snapshot_means"] = kwargs["snapshot_means"].copy()
    kwargs["snapshot_means"][5, 1] = np.nan
    kwargs["traces"] = kwargs["traces"].copy()
    kwargs["traces"][0, 1] = np.nan
    fig = go.Figure(fit_animation_figure(X, **kwargs))
    _assert_all_finite(fig)
    notes = _notes(fig)
    assert "3 points with missing or infinite values dropped" in notes
    assert "fit 1 not drawn in 1 of 64 snapshots" in notes
    assert "1 non-finite log-likelihood value dropped" in notes
    data = fig.data[_trace_names(fig).index("data")]
    assert len(data.x) == len(fitted.X) - 3
    # In that snapshot the component's ellipses are hidden, not drawn from stale values.
    frame = fig.frames[5]
    index = _trace_names(fig).index("fit 1 2σ")
    assert frame.data[list(frame.traces).index(index)].opacity == 0


def test_animation_rejects_entirely_non_finite_inputs(fitted: Fitted) -> None:
    kwargs = fitted.animation_kwargs(4)
    with pytest.raises(ValueError, match="no finite rows"):
        fit_animation_figure(np.full_like(fitted.X, np.nan), **kwargs)
    bad_means = dict(kwargs, snapshot_means=np.full_like(kwargs["snapshot_means"], np.nan))
    with pytest.raises(ValueError, match="non-finite"):
        fit_animation_figure(fitted.X, **bad_means)
    bad_traces = dict(kwargs, traces=np.full_like(kwargs["traces"], np.nan))
    with pytest.raises(ValueError, match="no finite"):
        fit_animation_figure(fitted.X, **bad_traces)
    with pytest.raises(ValueError, match="highlighted_restart"):
        fit_animation_figure(fitted.X, **dict(kwargs, highlighted_restart=8))


def test_animation_is_deterministic(fitted: Fitted) -> None:
    kwargs = fitted.animation_kwargs(5)
    first = json.dumps(fit_animation_figure(fitted.X, **kwargs, max_points=700))
    second = json.dumps(fit_animation_figure(fitted.X, **kwargs, max_points=700))
    assert first == second


# ----------------------------------------------------------------------------------------
# static ellipses


def test_ellipse_figure_colours_follow_a_permuted_estimate(fitted: Fitted) -> None:
    kwargs = fitted.static_kwargs(4)
    fit = kwargs["mixture"]
    colors = component_colors_from_matching(fitted.true_means, fit.means, fit.weights)
    fig = ellipse_figure(fitted.X, **kwargs, component_colors=colors)
    assert not fig.frames
    names = _trace_names(fig)
    assert len([n for n in names if n.startswith("true ")]) == 4 * len(SIGMAS)
    assert len([n for n in names if n.startswith("fit ") and n != "fit means"]) == 4 * len(SIGMAS)
    permutation = np.array([3, 1, 0, 2])
    permuted = Mixture(
        fit.weights[permutation], fit.means[permutation], fit.covariances[permutation]
    )
    permuted_colors = component_colors_from_matching(
        fitted.true_means, permuted.means, permuted.weights
    )
    fig_permuted = ellipse_figure(
        fitted.X, **{**kwargs, "mixture": permuted}, component_colors=permuted_colors
    )
    for k in range(4):
        original = fig.data[names.index(f"fit {permutation[k]} 1σ")]
        moved = fig_permuted.data[_trace_names(fig_permuted).index(f"fit {k} 1σ")]
        assert moved.line.color == original.line.color
        assert tuple(moved.x) == tuple(original.x)
        # ... and every fitted ellipse wears the colour of the true cluster it sits on.
        true_index = int(np.argmin(np.linalg.norm(fitted.true_means - permuted.means[k], axis=1)))
        assert moved.line.color == color_for(true_index)
        truth = fig_permuted.data[_trace_names(fig_permuted).index(f"true {true_index} 1σ")]
        assert truth.line.color == moved.line.color


def test_ellipse_figure_skips_non_finite_components(fitted: Fitted) -> None:
    kwargs = fitted.static_kwargs(4)
    means = kwargs["mixture"].means.copy()
    means[2, 0] = np.nan
    kwargs["mixture"] = dataclasses.replace(kwargs["mixture"], means=means)
    X = fitted.X.copy()
    X[0] = np.nan
    fig = ellipse_figure(X, **kwargs, n_sigmas=(2.0,))
    _assert_all_finite(fig)
    names = _trace_names(fig)
    assert [n for n in names if n.startswith("fit ") and n != "fit means"] == [
        "fit 0 2σ",
        "fit 1 2σ",
        "fit 3 2σ",
    ]
    assert len(fig.data[names.index("fit means")].x) == 3
    assert "1 point with missing or infinite values dropped" in _notes(fig)
    assert "fit 2" in _notes(fig)
    all_bad = np.full((4, 2), np.nan)
    kwargs["mixture"] = dataclasses.replace(kwargs["mixture"], means=all_bad)
    with pytest.raises(ValueError):
        ellipse_figure(fitted.X, **kwargs)


def test_ellipse_figure_without_truth_or_labels_subsamples(fitted: Fitted) -> None:
    kwargs = fitted.static_kwargs(3)
    fig = ellipse_figure(fitted.X, mixture=kwargs["mixture"], max_points=500)
    names = _trace_names(fig)
    assert not [n for n in names if n.startswith("true ")]
    data = fig.data[names.index("data")]
    assert len(data.x) == 500
    assert isinstance(data.marker.color, str)  # grey, not per label
    assert "showing 500 of 2000 points" in _notes(fig)


# ----------------------------------------------------------------------------------------
# curves


def test_log_likelihood_figure_marks_where_each_restart_stopped(fitted: Fitted) -> None:
    row = fitted.result.k_index(6)
    n_iter = fitted.result.n_iter[row]
    best = fitted.restart(6)
    fig = log_likelihood_figure(
        fitted.result.log_likelihood[row], n_iter=n_iter, highlighted_restart=best
    )
    names = _trace_names(fig)
    assert names[-2] == f"restart {best} (highlighted)"
    assert len([n for n in names if n.startswith("restart ")]) == 8
    dots = fig.data[names.index("stopped")]
    assert sorted(dots.x) == sorted((np.minimum(n_iter, 100) - 1).tolist())
    for restart in range(8):
        curve = next(t for t in fig.data if t.name.startswith(f"restart {restart}"))
        assert len(curve.x) == n_iter[restart]
    _assert_all_finite(fig)


def test_model_selection_marks_chosen_and_true_k(fitted: Fitted) -> None:
    result = fitted.result
    chosen = result.best_k()
    fig = model_selection_figure(
        result.k_values,
        bic=result.bic,
        aic=result.aic,
        final_log_likelihood=result.final_log_likelihood,
        chosen_k=chosen,
        true_k=4,
    )
    shapes = {shape.name: shape for shape in fig.layout.shapes}
    assert shapes["chosen K (BIC)"].x0 == chosen and shapes["chosen K (BIC)"].line.dash == "dash"
    assert shapes["true K"].x0 == 4 and shapes["true K"].line.dash == "dot"
    texts = [a.text for a in fig.layout.annotations]
    assert f"chosen K (BIC) = {chosen}" in texts
    assert "true K = 4" in texts
    assert list(fig.layout.xaxis3.tickvals) == list(range(1, 7))
    names = _trace_names(fig)
    every = fig.data[names.index("BIC: every restart")]
    assert len(every.x) == result.bic.size
    assert {round(x) for x in every.x} == set(range(1, 7))
    best_bic = fig.data[names.index("BIC: best restart")]
    np.testing.assert_allclose(best_bic.y, result.bic.min(axis=1), rtol=1e-4)
    best_ll = fig.data[names.index("log-likelihood: best restart")]
    np.testing.assert_allclose(best_ll.y, result.final_log_likelihood.max(axis=1), atol=1e-3)
    _assert_all_finite(fig)
    bic = result.bic.copy()
    bic[2, :3] = np.nan
    with_nan = model_selection_figure(
        result.k_values,
        bic=bic,
        aic=result.aic,
        final_log_likelihood=result.final_log_likelihood,
        chosen_k=chosen,
    )
    _assert_all_finite(with_nan)
    assert "BIC: 3 non-finite values" in _notes(with_nan)
    assert "true K" not in {shape.name for shape in with_nan.layout.shapes}
    with pytest.raises(ValueError):
        model_selection_figure(
            result.k_values,
            bic=np.full_like(bic, np.nan),
            aic=result.aic,
            final_log_likelihood=result.final_log_likelihood,
            chosen_k=chosen,
        )
    with pytest.raises(ValueError, match="chosen_k"):
        model_selection_figure(
            result.k_values,
            bic=result.bic,
            aic=result.aic,
            final_log_likelihood=result.final_log_likelihood,
            chosen_k=9,
        )


@pytest.mark.parametrize("k", [3, 6])
@pytest.mark.parametrize("tolerance", [1e-3, 1e-2])
def test_histogram_reports_the_fraction_near_the_best(
    fitted: Fitted, k: int, tolerance: float
) -> None:
    values = fitted.result.final_log_likelihood[fitted.result.k_index(k)]
    fig = final_log_likelihood_histogram(values, tolerance=tolerance)
    expected = sum(1 for v in values if v >= max(values) - tolerance)
    annotation = next(a.text for a in fig.layout.annotations if a.name == "near best")
    match = re.search(r"(\d+) of (\d+) restarts \((\d+)%\)", annotation)
    assert match is not None
    assert int(match.group(1)) == expected
    assert int(match.group(2)) == len(values)
    assert int(match.group(3)) == round(100 * expected / len(values))
    resolution = 1e-4 * float(np.ptp(values))  # values are rounded to 4 digits of the spread
    assert fig.layout.shapes[0].x0 == pytest.approx(float(np.max(values)), abs=resolution)
    assert len(fig.data[0].x) == len(values)
    bins = fig.data[0].xbins
    assert bins.start < min(fig.data[0].x) and bins.end > max(fig.data[0].x)
    assert (bins.end - bins.start) / bins.size <= 32
    _assert_all_finite(fig)


def test_histogram_counts_non_finite_restarts_as_not_near(fitted: Fitted) -> None:
    values = fitted.result.final_log_likelihood[fitted.result.k_index(4)].copy()
    values[[1, 6]] = [np.nan, -np.inf]
    fig = final_log_likelihood_histogram(values, tolerance=1e-3)
    _assert_all_finite(fig)
    assert "2 non-finite values dropped" in _notes(fig)
    annotation = next(a.text for a in fig.layout.annotations if a.name == "near best")
    assert "6 of 8 restarts" in annotation
    with pytest.raises(ValueError):
        final_log_likelihood_histogram(np.full(5, np.nan))


def test_init_comparison_figure(fitted: Fitted) -> None:
    rows = [fitted.result.k_index(k) for k in (4, 5, 6)]
    samples = [fitted.result.final_log_likelihood[row] for row in rows]
    methods = ["k-means++", "kmeans", "random"]
    fig = init_comparison_figure(
        methods,
        fraction_near_best=[1.0, 0.5, np.nan],
        mean_iterations=[2.0, 3.5, 9.25],
        final_log_likelihoods=[samples[0], samples[1], np.append(samples[2], np.nan)],
    )
    names = _trace_names(fig)
    assert names == [*methods, "fraction near best", "mean iterations"]
    boxes = [trace for trace in fig.data if trace.type == "box"]
    assert [len(box.y) for box in boxes] == [8, 8, 8]
    fractions = fig.data[names.index("fraction near best")]
    assert list(fractions.x) == ["k-means++", "kmeans"]
    assert list(fractions.y) == [1.0, 0.5]
    assert list(fig.data[names.index("mean iterations")].y) == [2.0, 3.5, 9.25]
    assert boxes[2].marker.color == fig.data[names.index("mean iterations")].marker.color[2]
    assert "no fraction for random" in _notes(fig)
    _assert_all_finite(fig)
    with pytest.raises(ValueError):
        init_comparison_figure(
            ["a"],
            fraction_near_best=[np.nan],
            mean_iterations=[np.nan],
            final_log_likelihoods=[np.array([np.nan])],
        )


# ----------------------------------------------------------------------------------------
# restart grid


def test_restart_grid_sorts_panels_and_keeps_three_traces_each(fitted: Fitted) -> None:
    result, row = fitted.result, fitted.result.k_index(6)
    means, weights = result.final.means[row, :, :6], result.final.weights[row, :, :6]
    colors = np.stack(
        [
            component_colors_from_matching(fitted.true_means, m, w)
            for m, w in zip(means, weights, strict=True)
        ]
    )
    fig = go.Figure(
        restart_grid_figure(
            fitted.X,
            means=means,
            covariances=result.final.covariances[row, :, :6],
            weights=weights,
            final_log_likelihood=result.final_log_likelihood[row],
            labels=fitted.labels,
            component_colors=colors,
        )
    )
    order = np.argsort(-result.final_log_likelihood[row], kind="stable")
    titles = [a.text for a in fig.layout.annotations if a.name != "notes"]
    assert titles == [f"r{r}: {result.final_log_likelihood[row, r]:.3f}" for r in order]
    assert len(fig.data) == 3 * 8
    ellipses = [t for t in fig.data if t.name.endswith("ellipses")]
    assert [t.name for t in ellipses] == [f"r{r} ellipses" for r in order]
    assert all(list(t.y).count(None) == 6 - 1 for t in ellipses)
    centres = fig.data[[t.name for t in fig.data].index(f"r{order[0]} means")]
    assert list(centres.marker.color) == [color_for(c) for c in colors[order[0]]]
    assert not fig.layout.xaxis.visible
    assert len({tuple(fig.layout[f"xaxis{i or ''}"].range) for i in (0, 2, 5)}) == 1
    assert len(fig.to_json()) < 1_000_000


def test_restart_grid_caps_panels_and_survives_non_finite(fitted: Fitted) -> None:
    result, row = fitted.result, fitted.result.k_index(4)
    means = result.final.means[row, :, :4].copy()
    means[0, 1] = np.nan
    scores = result.final_log_likelihood[row].copy()
    scores[3] = np.nan
    fig = go.Figure(
        restart_grid_figure(
            fitted.X,
            means=means,
            covariances=result.final.covariances[row, :, :4],
            weights=result.final.weights[row, :, :4],
            final_log_likelihood=scores,
            max_panels=5,
            columns=3,
        )
    )
    _assert_all_finite(fig)
    assert len(fig.data) == 3 * 5
    notes = _notes(fig)
    assert "1 component with non-finite parameters skipped" in notes
    assert "showing the best 5 of 8 restarts" in notes
    assert "r3: n/a" not in [a.text for a in fig.layout.annotations]  # sorted last, cut
    with pytest.raises(ValueError):
        restart_grid_figure(
            fitted.X,
            means=np.full_like(means, np.nan),
            covariances=result.final.covariances[row, :, :4],
            weights=result.final.weights[row, :, :4],
            final_log_likelihood=scores,
        )
