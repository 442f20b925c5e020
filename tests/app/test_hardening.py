"""Hardening without a browser or AppTest: the figure builders' boundary, the work budget,
the sweep cache, the safety settings and what the app's source may not contain."""

from __future__ import annotations

import ast
import json
import math
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gmm_core
import gmm_figures
from gmm_app import app_settings, budget_gate, cluster_table, fit_flow, sweep_cache, widgets
from gmm_app.upload import MAX_UPLOAD_BYTES
from gmm_core import budget
from gmm_core.mixture import Mixture
from gmm_core.sweep import SweepProgress
from tests.support.figures import figure_numbers

ROOT = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------- figures

RNG = np.random.default_rng(3)
X = np.concatenate([RNG.normal(size=(40, 2)), RNG.normal(size=(40, 2)) + 5])
LABELS = np.repeat([0, 1], 40)
MEANS = np.array([[0.0, 0.0], [5.0, 5.0]])
COVARIANCES = np.stack([np.eye(2), [[1.0, 0.3], [0.3, 0.5]]])
WEIGHTS = np.array([0.5, 0.5])
TRACES = np.array([[-4.0, -3.5, -3.2, -3.2], [-4.2, -3.9, -3.3, -3.25], [-5.0, -4.0, -3.4, -3.3]])
SNAPSHOTS = np.array([0, 1, 3])


def _ellipse() -> dict[str, Any]:
    return {
        "X": X,
        "labels": LABELS,
        "true_means": MEANS,
        "true_covariances": COVARIANCES,
        "means": MEANS + 0.1,
        "covariances": COVARIANCES,
        "weights": WEIGHTS,
        "initial_means": MEANS - 0.5,
    }


def _draw_ellipses(
    X: np.ndarray, *, means: Any, covariances: Any, weights: Any, **options: Any
) -> go.Figure:
    """ellipse_figure with the fit given as arrays, so that each stays a target below."""
    return gmm_figures.ellipse_figure(X, mixture=Mixture(weights, means, covariances), **options)


def _animation() -> dict[str, Any]:
    return {
        "X": X,
        "labels": LABELS,
        "true_means": MEANS,
        "true_covariances": COVARIANCES,
        "snapshot_iterations": SNAPSHOTS,
        "snapshot_weights": np.tile(WEIGHTS, (3, 1)),
        "snapshot_means": np.stack([MEANS - 0.5, MEANS - 0.2, MEANS]),
        "snapshot_covariances": np.stack([COVARIANCES] * 3),
        "initial_means": MEANS - 0.5,
        "traces": TRACES,
        "highlighted_restart": 1,
    }


def _restart_grid() -> dict[str, Any]:
    return {
        "X": X,
        "means": np.stack([MEANS, MEANS[::-1]]),
        "covariances": np.stack([COVARIANCES] * 2),
        "weights": np.stack([WEIGHTS] * 2),
        "final_log_likelihood": np.array([-3.2, -3.3]),
        "labels": LABELS,
        "component_colors": np.array([[0, 1], [1, 0]]),
    }


# builder -> (function, inputs): every array input is a candidate for NaN and infinity.
BUILDERS: dict[str, tuple[Callable[..., go.Figure], Callable[[], dict[str, Any]]]] = {
    "ellipse_figure": (_draw_ellipses, _ellipse),
    "fit_animation_figure": (
        lambda X, **kw: go.Figure(gmm_figures.fit_animation_figure(X, **kw)),  # a figure dict
        _animation,
    ),
    "log_likelihood_figure": (
        lambda traces, **kw: gmm_figures.log_likelihood_figure(traces, **kw),
        lambda: {"traces": TRACES, "n_iter": np.array([3, 4, 4]), "highlighted_restart": 0},
    ),
    "model_selection_figure": (
        lambda k_values, **kw: gmm_figures.model_selection_figure(k_values, **kw),
        lambda: {
            "k_values": np.array([1, 2, 3]),
            "bic": np.array([[900.0, 910.0], [700.0, 705.0], [720.0, 730.0]]),
            "aic": np.array([[890.0, 900.0], [680.0, 690.0], [690.0, 700.0]]),
            "final_log_likelihood": np.array([[-4.0, -4.1], [-3.2, -3.3], [-3.1, -3.2]]),
            "chosen_k": 2,
            "true_k": 2,
        },
    ),
    "final_log_likelihood_histogram": (
        lambda final_log_likelihood, **kw: gmm_figures.final_log_likelihood_histogram(
            final_log_likelihood, **kw
        ),
        lambda: {"final_log_likelihood": np.array([-3.2, -3.2005, -3.4, -3.9])},
    ),
    "init_comparison_figure": (
        lambda methods, **kw: gmm_figures.init_comparison_figure(methods, **kw),
        lambda: {
            "methods": ["kmeans", "random"],
            "fraction_near_best": [0.75, 0.25],
            "mean_iterations": [12.0, 30.5],
            "final_log_likelihoods": [np.array([-3.2, -3.2, -3.3]), np.array([-3.2, -3.6])],
        },
    ),
    "restart_grid_figure": (
        lambda X, **kw: go.Figure(gmm_figures.restart_grid_figure(X, **kw)),
        _restart_grid,
    ),
}


def assert_clean_json(figure: go.Figure) -> None:
    """No NaN or infinity in the figure: not as numbers, not as null-coerced JSON text."""
    assert np.all(np.isfinite(figure_numbers(figure)))
    text = figure.to_json()
    assert not re.search(r"\b(NaN|-?Infinity)\b", text)
    json.loads(text, parse_constant=lambda token: pytest.fail(f"{token} in JSON"))


def _array_inputs(inputs: dict[str, Any]) -> list[str]:
    return [
        name
        for name, value in inputs.items()
        if (isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.number))
        or (isinstance(value, list) and name != "methods")
    ]


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_builder_draws_its_clean_inputs(name: str) -> None:
    build, inputs = BUILDERS[name]
    assert_clean_json(build(**inputs()))


BAD_NUMBERS = st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 1e300])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow inside numpy, by design
@pytest.mark.parametrize("name", list(BUILDERS))
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_builders_given_nan_or_inf_give_clean_json_or_a_value_error(
    name: str, data: st.DataObject
) -> None:
    build, make_inputs = BUILDERS[name]
    inputs = make_inputs()
    targets = data.draw(st.lists(st.sampled_from(_array_inputs(inputs)), min_size=1, max_size=3))
    for target in targets:
        value = inputs[target]
        if isinstance(value, list):  # a list of arrays or of numbers
            index = data.draw(st.integers(0, len(value) - 1))
            value = list(value)
            item = np.array(value[index], dtype=np.float64)
            flat = item.reshape(-1)
            if flat.size:
                flat[data.draw(st.integers(0, flat.size - 1))] = data.draw(BAD_NUMBERS)
            value[index] = item if item.ndim else float(item)
        else:
            value = value.astype(np.float64)
            flat = value.reshape(-1)
            how_many = data.draw(st.integers(1, flat.size))
            positions = data.draw(
                st.lists(st.integers(0, flat.size - 1), min_size=1, max_size=how_many)
            )
            for position in positions:
                flat[position] = data.draw(BAD_NUMBERS)
        inputs[target] = value
    try:
        figure = build(**inputs)
    except ValueError:
        return
    assert_clean_json(figure)


@pytest.mark.parametrize("name", ["ellipse_figure", "fit_animation_figure"])
def test_ellipse_builders_accept_no_radii(name: str) -> None:
    build, inputs = BUILDERS[name]
    figure = build(**inputs(), n_sigmas=())
    names = [trace.name for trace in figure.data]
    assert not [n for n in names if re.fullmatch(r"(fit|true) \d+ .*σ", n)]
    assert "fit means" in names and "initial means" in names
    assert_clean_json(figure)


def test_the_static_view_draws_initial_means_as_crosses() -> None:
    inputs = _ellipse()
    figure = _draw_ellipses(**inputs)
    (start,) = [trace for trace in figure.data if trace.name == "initial means"]
    assert start.marker.symbol == "x"
    np.testing.assert_allclose(np.column_stack([start.x, start.y]), inputs["initial_means"])
    inputs["initial_means"] = None
    figure = _draw_ellipses(**inputs)
    assert "initial means" not in [trace.name for trace in figure.data]
    inputs["initial_means"] = np.array([[np.nan, 0.0], [1.0, 1.0]])
    figure = _draw_ellipses(**inputs)
    (start,) = [trace for trace in figure.data if trace.name == "initial means"]
    assert len(start.x) == 1
    with pytest.raises(ValueError, match="initial_means"):
        _draw_ellipses(**{**inputs, "initial_means": np.zeros((3, 2))})


@pytest.mark.parametrize(
    ("value", "spec", "shown"),
    [
        (1.23456, ".4f", "1.2346"),
        (math.nan, ".4f", "—"),
        (math.inf, ".1f", "—"),
        (-math.inf, ".1f", "—"),
        (np.float32(2.5), ".1f", "2.5"),
    ],
)
def test_metrics_never_show_nan_or_inf(value: float, spec: str, shown: str) -> None:
    assert widgets.format_metric(value, spec) == shown


# --------------------------------------------------------------------------- budget


def _fit(
    k_min: int, k_max: int, n_restarts: int, max_iter: int, covariance_type: str = "full"
) -> gmm_core.FitSettings:
    """The app's fit settings (64 snapshots) with these values."""
    return gmm_core.FitSettings(
        k_min, k_max, n_restarts, max_iter=max_iter, covariance_type=covariance_type, snapshots=64
    )


def test_budget_verdicts_follow_the_limits() -> None:
    plenty = 64 * 2**30
    small = budget.estimate_sweep(2000, 2, _fit(1, 6, 8, 100))
    assert small.seconds < budget.CONFIRM_ABOVE_SECONDS
    assert budget.verdict(small, plenty) == "run"
    large = budget.estimate_sweep(50000, 2, _fit(1, 6, 64, 100))
    assert budget.verdict(large, plenty) == "confirm"
    huge = budget.estimate_sweep(50000, 2, _fit(1, 12, 64, 1000))
    assert huge.seconds > budget.REFUSE_ABOVE_SECONDS
    assert budget.verdict(huge, plenty) == "refuse"
    # Memory alone can refuse: a quarter of what is available at most.
    assert budget.verdict(small, 4 * small.peak_bytes - 4) == "refuse"
    assert budget.verdict(small, 4 * small.peak_bytes + 4) == "run"
    assert budget.total([small, small]).seconds == pytest.approx(2 * small.seconds)
    assert budget.total([]) == budget.WorkEstimate(0.0, 0, 0.0)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    n=st.integers(1, 1_000_000),
    d=st.integers(1, 16),
    k_range=st.tuples(st.integers(1, 12), st.integers(1, 12)).map(sorted),
    restarts=st.integers(1, 64),
    max_iter=st.integers(1, 1000),
    covariance_type=st.sampled_from(["full", "tied", "diag", "spherical"]),
)
def test_estimates_are_finite_positive_and_grow_with_every_setting(
    n: int, d: int, k_range: list[int], restarts: int, max_iter: int, covariance_type: str
) -> None:
    k_min, k_max = k_range

    def estimate(**change: int) -> budget.WorkEstimate:
        args = {"n": n, "r": restarts, "it": max_iter, "k": k_max, **change}
        fit = _fit(k_min, args["k"], args["r"], args["it"], covariance_type)
        return budget.estimate_sweep(args["n"], d, fit)

    base = estimate()
    assert math.isfinite(base.seconds) and base.seconds > 0 and base.peak_bytes > 0
    for change in ({"n": n + 5000}, {"r": restarts + 1}, {"it": max_iter + 1}, {"k": k_max + 1}):
        bigger = estimate(**change)
        assert bigger.seconds >= base.seconds
        if "n" not in change:  # more points can mean smaller E-step chunks
            assert bigger.peak_bytes >= base.peak_bytes


def test_budget_suggestions_name_values_that_fit() -> None:
    knobs = {
        "r": budget_gate.Knob("Restarts per K", 64, 1),
        "it": budget_gate.Knob("max_iter", 1000, 1),
    }

    def estimate_with(name: str, value: int) -> budget.WorkEstimate:
        restarts, max_iter = (value, 1000) if name == "r" else (64, value)
        return budget.estimate_sweep(50000, 2, _fit(1, 12, restarts, max_iter))

    def fits(estimate: budget.WorkEstimate) -> bool:
        return estimate.seconds <= budget.REFUSE_ABOVE_SECONDS

    lower = budget_gate.budget_suggestions(knobs, estimate_with, fits)
    found = dict(re.fullmatch(r"(.+) to at most ([\d,]+)", text).groups() for text in lower)
    restarts, max_iter = (int(found[knob.label].replace(",", "")) for knob in knobs.values())
    assert fits(estimate_with("r", restarts)) and not fits(estimate_with("r", restarts + 1))
    assert fits(estimate_with("it", max_iter)) and not fits(estimate_with("it", max_iter + 1))
    # A knob that cannot bring the cost down enough is left out.
    assert budget_gate.budget_suggestions(knobs, estimate_with, lambda e: False) == []


# --------------------------------------------------------------------------- sweep cache


class _FakeResult:
    def __init__(self, n_bytes: int) -> None:
        self.payload = np.zeros(n_bytes, np.uint8)


def test_the_sweep_cache_is_bounded_in_entries_and_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweep_cache, "result_bytes", lambda result: result.payload.nbytes)
    cache = sweep_cache.SweepCache(max_entries=3, max_bytes=1000)
    for key in range(10):
        cache.put(key, _FakeResult(100))
    assert len(cache) == 3 and [k for k in range(10) if k in cache] == [7, 8, 9]
    cache.get(7)  # used: now the newest
    cache.put(10, _FakeResult(100))
    assert [k for k in range(11) if k in cache] == [7, 9, 10]
    cache.put(11, _FakeResult(950))  # over the byte bound: only the newest stays
    assert len(cache) == 1 and 11 in cache and cache.n_bytes == 950
    cache.put(12, _FakeResult(5000))  # alone over the bound: still kept
    assert len(cache) == 1 and 12 in cache


def test_a_sweep_reports_progress_but_the_callback_is_not_part_of_the_key() -> None:
    data = app_settings.DataKey(cluster_table.preset_clusters("four_blobs"), 1.0, 2000, 4242)
    fit = gmm_core.FitSettings(1, 6, 8, snapshots=64)
    seen: list[SweepProgress] = []
    first = fit_flow.sweep_synthetic(data, fit, seen.append)
    assert first.fresh and first.progress_reports == len(seen)
    done = [p.restarts_done for p in seen]
    assert done and done == sorted(set(done)) and done[-1] == 8  # one call per slice
    assert seen[-1].fraction == 1.0 and all(math.isfinite(p.remaining_seconds) for p in seen)
    again: list[SweepProgress] = []
    cached = fit_flow.sweep_synthetic(data, fit, again.append)
    assert cached.result is first.result and not cached.fresh and cached.progress_reports == 0
    assert fit_flow.sweep_synthetic(data, fit).result is first.result
    assert again == []
    assert fit_flow.estimate_synthetic(data, fit).quadruples == 0  # cached: no work left
    assert fit_flow.estimate_synthetic(data._replace(seed=4243), fit).quadruples > 0


# --------------------------------------------------------------------------- safety settings


def test_streamlit_config_keeps_the_safety_settings() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert config["client"]["showErrorDetails"] in ("none", "type")
    assert config["server"]["maxUploadSize"] * 2**20 == MAX_UPLOAD_BYTES
    assert config["server"].get("enableCORS", True) is True


SOURCES = sorted(
    [ROOT / "app.py", *(ROOT / "pages").glob("*.py")]
    + [*(ROOT / "gmm_app").glob("*.py"), *(ROOT / "gmm_figures").glob("*.py")]
)
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "marshal", "shelve", "joblib", "cloudpickle"}
FORBIDDEN_ATTRIBUTES = {"read_pickle", "to_pickle", "load_pickle"}
RAW_HTML_MODULES = {"st", "streamlit", "components", "v1"}  # st.html, components.v1.html


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_raw_html_pickle_or_eval_in_the_app(path: Path) -> None:
    """No unsafe_allow_html, st.html, pickle or eval/exec anywhere in the app's source.

    (``fig.to_html``, a Plotly figure as a standalone download, is allowed: it writes our
    own figure into a file, and every text in it is ours or escaped by Plotly.)
    """
    text = path.read_text()
    assert "unsafe_allow_html" not in text
    assert "allow_pickle" not in text
    tree = ast.parse(text)
    constant_strings = {
        target.id
        for statement in tree.body
        if isinstance(statement, ast.Assign)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
        for target in statement.targets
        if isinstance(target, ast.Name)
    }
    # st.html of a module-level string literal (our own fixed CSS) holds no outside text.
    fixed_html = {
        id(node.func)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "html"
        and not node.keywords
        and all(isinstance(a, ast.Name) and a.id in constant_strings for a in node.args)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in FORBIDDEN_CALLS, (path, node.lineno)
        if isinstance(node, ast.Import):
            assert not {alias.name.split(".")[0] for alias in node.names} & FORBIDDEN_MODULES
        if isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] not in FORBIDDEN_MODULES, (path, node.lineno)
            assert "html" not in {alias.name for alias in node.names}, (path, node.lineno)
        if isinstance(node, ast.Attribute):
            assert node.attr not in FORBIDDEN_ATTRIBUTES, (path, node.lineno)
            if node.attr == "html" and id(node) not in fixed_html:
                base = node.value
                owner = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
                assert owner not in RAW_HTML_MODULES, (path, node.lineno)
        if isinstance(node, ast.keyword) and node.arg == "unsafe_allow_html":
            pytest.fail(f"{path}:{node.value.lineno} uses unsafe_allow_html")
