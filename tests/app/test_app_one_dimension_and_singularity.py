"""AppTest of the singularity demo, the one-dimensional mode and uploads with a label column."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.support.apptest import (
    charts,
    errors,
    make_app,
    open_page,
    plain_warnings,
    run_ok,
    sidebar,
    trace_names,
)
from tests.support.uploads import iris_like_csv

pytestmark = pytest.mark.usefixtures("navigation_mode")


def _metric(at, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert len(found) == 1, [m.label for m in at.metric]
    return found[0]


@pytest.mark.parametrize("preset", ["bimodal_1d", "skewed_1d"])
def test_one_dimensional_presets_show_densities_on_every_page(preset: str) -> None:
    at = run_ok(make_app({"preset": preset}))
    assert errors(at) == [] and at.warning.len == 0
    names = trace_names(charts(at)[0])
    n_true = 2 if preset == "bimodal_1d" else 3
    assert len([n for n in names if n.startswith("true ") and n.endswith(" density")]) == n_true
    assert "fit mixture" in names and "true mixture" in names
    for page in ("pages/model_selection.py", "pages/restarts.py"):
        open_page(at, page)
        assert errors(at) == []


def _smallest_eigenvalue(at) -> float:
    return float(_metric(at, "Smallest covariance eigenvalue"))


def test_singularity_preset_shrinks_a_component_as_reg_covar_falls() -> None:
    at = run_ok(make_app({"preset": "singularity", "k": "2", "reg_covar": "1e-02"}))
    assert errors(at) == []
    assert sidebar(at, "selectbox", "init").value == "k-means++"  # the preset's own init
    broad = _smallest_eigenvalue(at)
    likelihood = float(_metric(at, "Final log-likelihood / point"))
    sidebar(at, "select_slider", "reg_covar").set_value(1e-6)
    run_ok(at)
    narrow = _smallest_eigenvalue(at)
    # The clump's component sits on its floor, reg_covar (the clump's own spread is 1e-6).
    assert narrow < 1e-5 < 1e-3 < broad
    assert float(_metric(at, "Final log-likelihood / point")) > likelihood + 0.3
    assert any("collapsed" in w for w in plain_warnings(at))
    assert any("reg_covar" in c.value for c in at.caption)


def test_reg_covar_zero_on_the_singularity_preset_shows_a_failed_fit_never_nan() -> None:
    at = run_ok(make_app({"preset": "singularity", "reg_covar": "0"}))
    messages = [e.value for e in at.error] + plain_warnings(at)
    assert any("failed" in m or "collapsed" in m for m in messages), messages
    assert charts(at), "a failed fit still draws its last valid parameters"
    shown = [m.value for m in at.metric]
    assert not any("nan" in str(v).lower() for v in shown), shown


def test_a_bad_reg_covar_in_the_link_warns_and_keeps_the_other_settings() -> None:
    at = run_ok(make_app({"reg_covar": "banana", "restarts": "3", "tol": "1e-04"}))
    assert any("reg_covar" in w for w in plain_warnings(at))
    assert sidebar(at, "select_slider", "reg_covar").value == 1e-6
    assert sidebar(at, "slider", "restarts").value == 3
    assert sidebar(at, "select_slider", "tol").value == 1e-4
    assert "reg_covar" not in at.query_params


def test_an_upload_with_a_label_column_uses_it_as_the_truth() -> None:
    at = run_ok(make_app({"k_range": ["1", "4"], "init": "k-means++", "tab": "Ellipses"}))
    open_page(at, "pages/your_data.py")
    at.file_uploader[0].upload("iris.csv", iris_like_csv(), "text/csv")
    run_ok(at)
    assert errors(at) == []
    assert at.selectbox(key="upload_labels").value == "species"
    # `target` holds the same groups as integers: not fitted by default.
    columns = at.multiselect(key="upload_columns").value
    assert columns == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    ari = float(_metric(at, "ARI vs truth"))
    assert ari > 0.8
    (figure,) = charts(at)
    layout = figure["layout"]
    assert re.fullmatch(r"PC 1 \(\d+% of variance\)", layout["xaxis"]["title"]["text"])
    assert re.fullmatch(r"PC 2 \(\d+% of variance\)", layout["yaxis"]["title"]["text"])
    names = trace_names(figure)
    assert len([n for n in names if re.fullmatch(r"true \d 1σ", n)]) == 3
    data = next(trace for trace in figure["data"] if trace["name"] == "data")
    assert len(set(data["marker"]["color"])) == 3  # coloured by species


def test_unmarking_the_labels_leaves_the_ari_empty() -> None:
    at = run_ok(make_app({"k_range": ["1", "3"], "init": "k-means++", "tab": "Ellipses"}))
    open_page(at, "pages/your_data.py")
    at.file_uploader[0].upload("iris.csv", iris_like_csv(), "text/csv")
    run_ok(at)
    at.selectbox(key="upload_labels").set_value("none")
    run_ok(at)
    assert errors(at) == []
    assert _metric(at, "ARI: no true labels") == "—"
    names = trace_names(charts(at)[0])
    assert not [n for n in names if n.startswith("true ")]


def test_an_upload_with_one_numeric_column_is_fitted_in_one_dimension() -> None:
    rng = np.random.default_rng(2)
    values = np.concatenate([rng.normal(-3, 1, 150), rng.normal(3, 1, 150)])
    content = ("waiting\n" + "\n".join(f"{v:.4f}" for v in values)).encode()
    at = run_ok(make_app({"k_range": ["1", "3"], "init": "k-means++", "tab": "Ellipses"}))
    open_page(at, "pages/your_data.py")
    at.file_uploader[0].upload("one.csv", content, "text/csv")
    run_ok(at)
    assert errors(at) == []
    (figure,) = charts(at)
    assert figure["layout"]["xaxis"]["title"]["text"] == "waiting"
    assert "fit mixture" in trace_names(figure)
    assert _metric(at, "K chosen by BIC") == "2"
