"""The dashboard under hostile use (AppTest, no browser): odd links, odd files, extreme settings.

Every run must end in a clear message or a correct result: never an exception, a NaN
or an infinity on screen. Sweeps are cached for the whole process, and the cases are
chosen so that most of them reuse a few compiled shapes (n ≈ 2000 points, K in 1..6,
at most 8 restarts, max_iter ≤ 100; uploads: ≤ 256 rows, 2 columns, K in 1..2).
"""

from __future__ import annotations

import gzip
import io
import json
import math
import random
import re
import zipfile
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from gmm_app import (
    app_settings,
    cluster_table,
    clusters_editor,
    datasets,
    fit_flow,
    params,
    sidebar,
)
from gmm_app.upload import parse_csv
from gmm_core import PRESETS, SHIPPED, budget
from tests.support.apptest import charts, last_sweep, make_app, open_page, run_ok
from tests.support.apptest import plain_errors as errors
from tests.support.apptest import plain_warnings as warnings_
from tests.support.strategies import VALID_TABLE_TEXT

pytestmark = pytest.mark.usefixtures("navigation_mode")


FIT_PAGES = ("pages/explore.py", "pages/model_selection.py", "pages/restarts.py")
ALL_PAGES = (*FIT_PAGES, "pages/your_data.py", "pages/about.py")
IGNORED_PREFIX = "Some settings in the link were ignored"


# --------------------------------------------------------------------------- helpers


def metric_values(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


_METRIC_WORDS = {"—", "yes", "no", "stuck", "failed"}


def assert_finite_screen(at: AppTest) -> None:
    """No figure holds NaN/inf, no figure failed to draw, and every metric reads as finite."""
    charts(at)
    assert not [w for w in warnings_(at) if w.startswith("This figure could not be drawn")]
    for label, value in metric_values(at).items():
        text = str(value).strip()
        assert not re.search(r"nan|inf", text, re.IGNORECASE), (label, text)
        if text in _METRIC_WORDS:
            continue
        number = float(text.replace(",", "").rstrip("%"))
        assert math.isfinite(number), (label, text)


class Downloads:
    """Records the data callables of ``st.download_button`` (deferred downloads)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.callables: dict[str, Callable[[], Any]] = {}
        original = MediaFileManager.add_deferred

        def add_deferred(manager: MediaFileManager, data_callable: Any, *args: Any, **kw: Any):
            file_id = original(manager, data_callable, *args, **kw)
            self.callables[file_id] = data_callable
            return file_id

        monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)

    def payloads(self, at: AppTest) -> dict[str, bytes]:
        """Label -> bytes of every download button on the page."""
        found = {}
        for button in at.download_button:
            data = self.callables[button.proto.deferred_file_id]()
            found[button.label] = data.encode() if isinstance(data, str) else bytes(data)
        return found


# --------------------------------------------------------------------------- 1. links

EMBED_KEYS = {"embed", "embed_options"}
GARBAGE = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "nan",
            "-inf",
            "1e999",
            "0x1f",
            "１２",
            "<script>alert(1)</script>",
            "[a](javascript:alert(1))",
            "9" * 80,
            "%00",
            "true",
            "None",
        ]
    ),
)
INTEGERS = st.integers(-(2**40), 2**40).map(str)

# Valid or out-of-range values that keep the sweep's compiled shape (points bucket 2048,
# K padded to 6, ≤ 8 restarts, max_iter ≤ 100, k-means++, full covariances) or stop
# before any sweep: random values hit few compilations.
SAME_SHAPE: dict[str, st.SearchStrategy] = {
    "preset": st.sampled_from(sorted({*PRESETS, *SHIPPED})),
    "noise": st.one_of(st.floats(-10, 10).map(lambda v: f"{v:.3g}"), st.just("0")),
    "n": st.one_of(st.integers(1537, 2048).map(str), st.sampled_from(["0", "-7", "3", "1.5"])),
    "data_seed": INTEGERS,
    "k_range": st.sampled_from(
        [["1", "6"], ["2", "6"], ["1", "5"], ["6", "2"], ["0", "6"], ["-4", "5"], ["3"]]
    ),
    "restarts": st.integers(-3, 8).map(str),
    "init": st.sampled_from(["k-means++", "kmeans++", "K-MEANS++"]),
    "cov": st.sampled_from(["full", "FULL", "diagonal"]),
    "max_iter": st.one_of(st.integers(51, 100).map(str), st.sampled_from(["100.0", "1e2"])),
    "tol": st.sampled_from([*map(params.format_tol, params.TOL_OPTIONS), "0.5", "1e-3"]),
    "reg_covar": st.sampled_from(
        [*map(params.format_reg_covar, params.REG_COVAR_OPTIONS), "1e-3", "-1", "inf", "x"]
    ),
    "init_seed": INTEGERS,
    "clusters": st.one_of(VALID_TABLE_TEXT, st.sampled_from(["1,2,3", "0,0,1,1,0,0", ";;"])),
    "k": st.sampled_from(["BIC", "1", "3", "6", "7", "0"]),
    "restart": st.sampled_from(["best", "0", "3", "7", "9", "-1"]),
    "sigmas": st.lists(
        st.sampled_from(["1", "2", "3", "4", "", "90% (2.15σ)", "39.3% (1σ)"]), max_size=4
    ),
    "tab": st.sampled_from([*params.TAB_OPTIONS, "ellipses", "Nope"]),
    "step": st.sampled_from(["0", "5", "9999", "-1", "x"]),
    "present": st.sampled_from(["1", "0", "yes"]),
    "view": st.sampled_from([*params.VIEW_OPTIONS, "3D"]),
    "init_means": st.sampled_from(["-1,1;1,-1", "0,0;3,3;6,0", "x", "1,1;1,1", "nan,1", ""]),
    "panels": st.sampled_from(["0,1,2,5,20", "3", "1,x", "-1", "0,5000"]),
    "uncertainty": st.sampled_from(["true", "false", "1", "x"]),
    "slide": st.sampled_from(["1", "3", "99", "x"]),  # the Lecture page's; others ignore them
    "deck": st.sampled_from(["em_in_15_minutes", "nope", "~x"]),
}
assert set(SAME_SHAPE) == set(params.QUERY_KEYS)


def _value(key: str) -> st.SearchStrategy:
    one = st.one_of(GARBAGE, SAME_SHAPE[key])
    return st.one_of(SAME_SHAPE[key], one, st.lists(one, min_size=2, max_size=3))


QUERIES = st.fixed_dictionaries(
    {},
    optional={key: _value(key) for key in params.QUERY_KEYS},
).flatmap(
    lambda known: st.dictionaries(
        st.one_of(
            st.text(st.characters(codec="utf-8"), max_size=8),
            st.sampled_from(["EMBED", "embed_options", "[x](y)", "<b>", "k_range[]", "n "]),
        ).filter(lambda key: key not in params.QUERY_KEYS),
        GARBAGE,
        max_size=2,
    ).map(lambda unknown: {**unknown, **known})
)


def received(query: dict[str, Any]) -> dict[str, list[str]]:
    """The query parameters as the app receives them (through a URL; Streamlit keeps embed
    options to itself)."""
    parsed = parse_qs(urlencode(query, doseq=True), keep_blank_values=True)
    return {key: values for key, values in parsed.items() if key.lower() not in EMBED_KEYS}


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(query=QUERIES, page=st.sampled_from(ALL_PAGES))
def test_random_links_render_every_page(query: dict[str, Any], page: str) -> None:
    expected = app_settings.parse_query_params(received(query))
    at = run_ok(make_app(query))
    ignored = [w for w in warnings_(at) if w.startswith(IGNORED_PREFIX)]
    assert len(ignored) == (1 if expected.ignored else 0), (expected.ignored, ignored)
    assert_finite_screen(at)
    if page != "pages/explore.py":
        open_page(at, page)
        assert not [w for w in warnings_(at) if w.startswith(IGNORED_PREFIX)]
        assert_finite_screen(at)
    if page in FIT_PAGES:
        # A fit was shown, or a clear message says why not.
        assert charts(at) or errors(at), (query, page)


# --------------------------------------------------------------------------- 2. uploads

UPLOAD_QUERY = {"n": "1", "k_range": ["1", "2"], "restarts": "4"}  # Explore stops at once


def _blob_rows(n: int = 120, sep: str = ",", decimal: str = ".") -> list[str]:
    rng = np.random.default_rng(7)
    points = np.concatenate([rng.normal(size=(n // 2, 2)), rng.normal(size=(n - n // 2, 2)) + 6])
    return [sep.join(f"{v:.3f}".replace(".", decimal) for v in row) for row in points]


def _csv(header: str, rows: list[str], sep: str = "\n") -> str:
    return sep.join([header, *rows]) + sep


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", _csv("x,y", _blob_rows()))
    return buffer.getvalue()


ROWS = _blob_rows()
# name -> (content, ("fit", rows used, rows dropped) or ("error", message start))
HOSTILE_UPLOADS: dict[str, tuple[bytes, tuple]] = {
    "latin-1 encoding": (
        _csv("température,poids", ROWS).encode("latin-1"),
        ("fit", 120, 0),
    ),
    "utf-8 byte-order mark": (b"\xef\xbb\xbf" + _csv("x,y", ROWS).encode(), ("fit", 120, 0)),
    "utf-16 with byte-order mark": (_csv("x,y", ROWS).encode("utf-16"), ("fit", 120, 0)),
    "semicolons and decimal commas": (
        _csv("x;y", _blob_rows(sep=";", decimal=",")).encode(),
        ("fit", 120, 0),
    ),
    "quoted numbers": (
        _csv('"x","y"', ['"' + row.replace(",", '","') + '"' for row in ROWS]).encode(),
        ("fit", 120, 0),
    ),
    "CRLF and a trailing delimiter": (
        _csv("x;y;", [row.replace(",", ";") + ";" for row in ROWS], sep="\r\n").encode(),
        ("fit", 120, 0),
    ),
    "inf and -inf": (
        (_csv("x,y", ROWS) + "inf,1\n-inf,2\n3,Infinity\n").encode(),
        ("fit", 120, 3),
    ),
    "numbers like 1e308": ((_csv("x,y", ROWS) + "1e308,1\n2,-1e308\n").encode(), ("fit", 120, 2)),
    "mixed types": (
        _csv(
            "x,y,label,when",
            [
                f"{'n/a' if i % 10 == 0 else row.split(',')[0]},{row.split(',')[1]},"
                f"{'ab'[i % 2]},2024-01-{i % 28 + 1:02d}"
                for i, row in enumerate(ROWS)
            ],
        ).encode(),
        ("fit", 108, 12),
    ),
    "one extra bad row": ((_csv("x,y", ROWS) + "oops,!!\n").encode(), ("fit", 120, 1)),
    "every row identical": (_csv("x,y", ["1.5,2.5"] * 100).encode(), ("fit", 100, 0)),
    "duplicate column names": (_csv("x,x", ROWS).encode(), ("fit", 120, 0)),
    "markup in the header": (
        _csv("<script>alert(1)</script>,[x](javascript:alert(1))", ROWS).encode(),
        ("fit", 120, 0),
    ),
    "thousands of columns": (
        (",".join(f"c{i}" for i in range(5000)) + "\n" + ",".join(["1"] * 5000) + "\n").encode(),
        ("error", "The file has a row with 5000 fields, more than the limit of 200 columns"),
    ),
    "one row": (b"x,y\n1,2\n", ("error", "Only 1 point but the K range goes up to 2")),
    "only a header": (b"x,y\n", ("error", "The file has a header row but no data rows")),
    "empty": (b"", ("error", "The uploaded file is empty")),
    "only whitespace": (b"  \n\t\n ", ("error", "The uploaded file contains only whitespace")),
    "binary garbage": (random.Random(0).randbytes(4096), ("error", "This looks like a binary")),
    "a ZIP renamed to .csv": (_zip(), ("error", "This looks like a binary file (ZIP archive)")),
    "a gzip file": (
        gzip.compress(_csv("x,y", ROWS).encode()),
        ("error", "This looks like a binary file (gzip archive)"),
    ),
    "a PDF": (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", ("error", "This looks like a binary file (PDF")),
    "NUL bytes": (b"x,y\n1,2\x00\x00\n" * 50, ("error", "This looks like a binary file")),
    "one 2 MB line": (b"1" * 2_000_000, ("error", "The file could not be split into CSV fields")),
    "every value too large": (
        _csv("x,y", ["1e308,1e308"] * 50).encode(),
        ("error", "All 50 rows had a missing, non-numeric, infinite or too large"),
    ),
    # One numeric column is fitted in one dimension
    # (tests/app/test_app_one_dimension_and_singularity.py).
    "over the size limit": (
        b"x,y\n" + b"1,2\n" * (21 * 2**20 // 4),
        ("error", "The file is 21.0 MB, which is over the 20.0 MB upload limit"),
    ),
    "over the row limit": (
        b"x,y\n" + b"1,2\n" * 1_000_001,
        ("error", "The file has more than 1,000,000 data rows"),
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE_UPLOADS))
def test_hostile_uploads_give_a_clear_message_or_a_fit(name: str) -> None:
    content, outcome = HOSTILE_UPLOADS[name]
    at = run_ok(make_app(UPLOAD_QUERY))
    open_page(at, "pages/your_data.py")
    at.file_uploader[0].upload("data.csv", content, "text/csv")
    run_ok(at)
    assert_finite_screen(at)
    if outcome[0] == "error":
        assert len(errors(at)) == 1, errors(at)
        assert errors(at)[0].startswith(outcome[1]), errors(at)
        assert charts(at) == []
        return
    _, n_rows, n_dropped = outcome
    assert errors(at) == []
    metrics = metric_values(at)
    assert metrics["Rows dropped"] == f"{n_dropped:,}"
    assert metrics["K chosen by BIC"] in {"1", "2"}
    (figure,) = charts(at)
    assert figure["data"]
    parsed = datasets.parse_upload(content)
    columns = tuple(at.multiselect(key="upload_columns").value)
    assert len(columns) == 2
    result = fit_flow.sweep_uploaded(content, columns, at.session_state["settings"].fit_key).result
    assert result.n_samples == n_rows == parsed.n_rows
    assert np.all(np.isfinite(result.final_log_likelihood))
    # Untrusted names are shown as text, never as markup.
    for node in at.markdown:
        assert "<script>" not in node.value and "](javascript" not in node.value


# --------------------------------------------------------------------------- 3. extremes


def _table(*rows: tuple[float, ...]) -> str:
    return cluster_table.encode_clusters(tuple(rows))


FOUR = cluster_table.preset_clusters("four_blobs")
# name -> (query, pages to check, expected outcome: "fit" or the start of an error)
EXTREMES: dict[str, tuple[dict, tuple[str, ...], str]] = {
    "the most points": ({"n": "50000"}, FIT_PAGES[:2], "fit"),
    "the most restarts": ({"restarts": "64"}, FIT_PAGES[:2], "fit"),
    "the widest K range": ({"k_range": ["1", "12"]}, FIT_PAGES[:2], "fit"),
    "max_iter at its maximum": ({"max_iter": "1000", "tol": "1e-08"}, FIT_PAGES[:2], "fit"),
    "a noise of 0 (clamped to the lowest)": ({"noise": "0"}, FIT_PAGES[:2], "fit"),
    "every spread 0": (
        {"clusters": _table(*((x, y, 0.0, 0.0, r, w) for x, y, _, _, r, w in FOUR))},
        FIT_PAGES[:2],
        "fit",
    ),
    "all clusters at one point": (
        {"clusters": _table(*[(0.0, 0.0, 0.0, 0.0, 0.0, 1.0)] * 4)},
        FIT_PAGES,
        "fit",
    ),
    "all clusters at one point with a spread": (
        {"clusters": _table(*[(3.0, -2.0, 1.0, 1.0, 0.0, 1.0)] * 4)},
        FIT_PAGES[:2],
        "fit",
    ),
    "a weight of 0": (
        {"clusters": _table(*FOUR[:3], (6.0, 6.0, 1.0, 1.0, 0.0, 0.0))},
        FIT_PAGES[:2],
        "fit",
    ),
    "the widest coordinates": (
        {
            "clusters": _table(
                (-1000.0, -1000.0, 100.0, 0.0, 360.0, 1000.0),
                (1000.0, 1000.0, 0.0, 100.0, -360.0, 0.001),
            )
        },
        FIT_PAGES[:2],
        "fit",
    ),
    "one point": ({"n": "1"}, FIT_PAGES, "Only 1 point but the K range goes up to 6"),
    "every weight 0 (a link cannot carry it: the preset is used)": (
        {"clusters": _table(*((x, y, sx, sy, r, 0.0) for x, y, sx, sy, r, _ in FOUR))},
        FIT_PAGES[:1],
        "fit",
    ),
    "every setting at its maximum": (
        {"n": "50000", "restarts": "64", "k_range": ["1", "12"], "max_iter": "1000"},
        FIT_PAGES,
        "This sweep is too large to run here",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXTREMES))
def test_extreme_settings_end_in_a_finite_fit_or_a_clear_message(name: str) -> None:
    query, pages, outcome = EXTREMES[name]
    at = run_ok(make_app(query))
    for page in pages:
        if page != "pages/explore.py":
            open_page(at, page)
        assert_finite_screen(at)
        if outcome == "fit":
            assert errors(at) == [], errors(at)
            assert charts(at) and all(figure["data"] for figure in charts(at))
        else:
            assert charts(at) == []
            assert any(outcome.lower() in error.lower() for error in errors(at)), errors(at)
    if outcome == "fit":
        settings_ = at.session_state["settings"]
        result = fit_flow.sweep_synthetic(settings_.data_key, settings_.fit_key).result
        for array in (result.final_log_likelihood, result.bic, result.aic, result.final.means):
            assert np.all(np.isfinite(array))


def test_too_large_a_sweep_names_the_settings_to_lower_and_runs_nothing() -> None:
    query = {"n": "50000", "restarts": "64", "k_range": ["1", "12"], "max_iter": "1000"}
    at = run_ok(make_app(query))
    (message,) = errors(at)
    for setting in ("Number of points", "Restarts per K", "max_iter", "the largest K"):
        assert setting in message
    assert re.search(r"estimated about \d+ min", message)
    # Each suggestion alone is enough: the suggested value passes the check.
    restarts = int(re.search(r"Restarts per K to at most (\d+)", message)[1])
    fit = at.session_state["settings"].fit_key.replace(n_restarts=restarts)
    data = at.session_state["settings"].data_key
    assert budget.verdict(fit_flow.estimate_synthetic(data, fit)) != "refuse"
    # The data and settings can still be downloaded; nothing was fitted.
    labels = [button.label for button in at.download_button]
    assert labels == ["Download data (CSV)", "Download settings and link (JSON)"]
    assert last_sweep(at) is None


def test_a_sweep_over_the_memory_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget, "available_memory_bytes", lambda: 40 * 2**20)
    at = run_ok(make_app({"data_seed": "101"}))
    (message,) = errors(at)
    assert "too large to run here" in message and "10 MB" in message, message
    assert charts(at) == []


def test_a_large_sweep_asks_for_confirmation_then_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget, "CONFIRM_ABOVE_SECONDS", 0.0)
    at = run_ok(make_app({"data_seed": "102"}))
    (warning,) = warnings_(at)
    assert (
        warning.startswith("This sweep is large: estimated") and "Run this large sweep" in warning
    )
    assert charts(at) == [] and last_sweep(at) is None
    run_ok(at)  # a rerun without pressing the button does not run it either
    assert charts(at) == [] and last_sweep(at) is None
    at.button(key="confirm_explore").click()
    run_ok(at)
    assert last_sweep(at).fresh and charts(at)
    assert warnings_(at) == []
    # The progress bar was fed, once per slice of restarts.
    assert last_sweep(at).progress_reports > 0
    # Another large sweep needs its own confirmation.
    at.sidebar.number_input(key="data_seed").set_value(103)
    run_ok(at)
    assert charts(at) == [] and any(w.startswith("This sweep is large") for w in warnings_(at))


def test_a_sweep_in_the_confirmation_zone_shows_its_estimate() -> None:
    at = run_ok(make_app({"n": "50000", "restarts": "64"}))
    (warning,) = warnings_(at)
    assert re.search(r"estimated about \d+ s and \d+ MB of memory", warning), warning
    assert "Number of points to at most" in warning
    assert at.button(key="confirm_explore").label == "Run this large sweep"
    assert last_sweep(at) is None


def test_editing_every_weight_to_0_shows_what_to_change() -> None:
    at = run_ok(make_app({"preset": "four_blobs"}))  # four rows to edit
    edits = {row: {"weight": 0.0} for row in range(4)}
    at.session_state[clusters_editor.TABLE_EDITOR_KEY] = {
        "edited_rows": edits,
        "added_rows": [],
        "deleted_rows": [],
    }
    run_ok(at)
    assert errors(at) == ["Every weight is 0: give at least one cluster a positive weight."]
    assert charts(at) == []
    assert_finite_screen(at)


# --------------------------------------------------------------------------- 6. nothing lost

FIT_JSON = "Download fitted parameters (JSON)"
DATA_CSV = "Download data (CSV)"
CLEAN_CSV = "Download cleaned data (CSV)"
SETTINGS_JSON = "Download settings and link (JSON)"


def check_settings_payload(payload: bytes, at: AppTest) -> dict:
    document = json.loads(payload)
    assert set(document) == {"settings", "query_params", "link"}
    assert document["settings"]["k_range"] == [
        at.session_state["settings"].fit.k_min,
        at.session_state["settings"].fit.k_max,
    ]
    # The link carries the query parameters, which read back without complaints.
    query = document["link"].partition("?")[2]
    assert parse_qs(query, keep_blank_values=True) == document["query_params"]
    assert app_settings.parse_query_params(document["query_params"]).ignored == ()
    return document


@pytest.mark.parametrize("page", FIT_PAGES)
def test_every_fit_page_offers_parameters_data_and_settings(
    page: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    downloads = Downloads(monkeypatch)
    at = run_ok(make_app({"noise": "1.5", "k": "3", "sigmas": ["1"]}))
    if page != "pages/explore.py":
        open_page(at, page)
    payloads = downloads.payloads(at)
    assert {FIT_JSON, DATA_CSV, SETTINGS_JSON} <= set(payloads), list(payloads)
    fit = json.loads(payloads[FIT_JSON])
    assert fit["settings"]["noise"] == 1.5 and fit["best_fit_per_k"]
    data = parse_csv(payloads[DATA_CSV])
    assert data.n_rows == 2000 and data.numeric_columns == ("x", "y", "true_cluster")
    document = check_settings_payload(payloads[SETTINGS_JSON], at)
    assert document["query_params"]["noise"] == ["1.5"]
    if page == "pages/explore.py":
        assert document["query_params"]["k"] == ["3"]
        assert fit["shown_fit"]["k"] == 3


def test_uploads_offer_the_cleaned_data_settings_and_parameters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    downloads = Downloads(monkeypatch)
    content = HOSTILE_UPLOADS["mixed types"][0]
    at = run_ok(make_app(UPLOAD_QUERY))
    open_page(at, "pages/your_data.py")
    at.file_uploader[0].upload("data.csv", content, "text/csv")
    run_ok(at)
    payloads = downloads.payloads(at)
    assert {FIT_JSON, CLEAN_CSV, SETTINGS_JSON} <= set(payloads), list(payloads)
    clean = parse_csv(payloads[CLEAN_CSV])
    assert clean.n_rows == 108 and clean.n_rows_dropped == 0
    np.testing.assert_array_equal(clean.data.to_numpy(), datasets.parse_upload(content).data)
    fit = json.loads(payloads[FIT_JSON])
    assert fit["columns"] == ["x", "y"] and fit["n_samples"] == 108
    document = check_settings_payload(payloads[SETTINGS_JSON], at)
    assert document["settings"]["columns"] == ["x", "y"]


def test_an_upload_that_cannot_be_fitted_can_still_be_downloaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    downloads = Downloads(monkeypatch)
    at = run_ok(make_app(UPLOAD_QUERY))
    open_page(at, "pages/your_data.py")
    at.file_uploader[0].upload("data.csv", b"x,y\n1,2\n", "text/csv")
    run_ok(at)
    assert errors(at)[0].startswith("Only 1 point")
    payloads = downloads.payloads(at)
    assert parse_csv(payloads[CLEAN_CSV]).n_rows == 1
    check_settings_payload(payloads[SETTINGS_JSON], at)


# --------------------------------------------------------------------------- start-up


def test_app_turns_on_the_compilation_cache_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(sidebar, "enable_compilation_cache", lambda: calls.append(1))
    monkeypatch.setattr(sidebar, "_STARTED", {})
    at = run_ok(make_app())
    run_ok(at)
    open_page(at, "pages/about.py")
    assert calls == [1]
