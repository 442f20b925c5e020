"""The settings layer (pure): URL parameters, the cluster-table codec, Settings, link warnings."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gmm_core
from gmm_app import app_settings, cluster_table, datasets, params, sidebar
from gmm_core import COVARIANCE_TYPES, INIT_METHODS, PRESETS, SHIPPED
from tests.support.strategies import VALID_TABLES

KNOWN_KEYS = list(params.QUERY_KEYS)


def assert_reads_back(param: object, value: object) -> None:
    """``value`` is one its parameter gives as it is: its URL text reads back to it, with
    no note (an out-of-range, off-grid or unknown value would be changed and noted)."""
    text = param.canonical(value)
    if text is None:
        assert value == param.default, (param.key, value)
        return
    result = param.parse([text] if isinstance(text, str) else text)
    assert (result.value, result.note) == (value, None), (param.key, value, result)
    assert type(result.value) is type(value), (param.key, value)


def assert_valid_values(values: dict[str, object]) -> None:
    """Every value is of the widget's type and inside its range."""
    for param in (*params.SIDEBAR_PARAMS, *params.PAGE_PARAMS):
        assert_reads_back(param, values[param.key])
    assert_reads_back(params.k_choice_param(values["k_range"]), values["k"])
    assert_reads_back(params.restart_choice_param(values["restarts"]), values["restart"])
    assert values["k_range"][0] <= values["k_range"][1]


def test_the_validity_check_can_fail() -> None:
    for param, bad in [(params.RESTARTS, 65), (params.NOISE, 0.123), (params.INIT, "kmeans+")]:
        with pytest.raises(AssertionError):
            assert_reads_back(param, bad)


def assert_valid_table(table: cluster_table.ClusterTable) -> None:
    assert 1 <= len(table) <= cluster_table.MAX_CLUSTERS
    array = np.asarray(table, dtype=np.float64)
    assert array.shape == (len(table), 6)
    assert np.all(np.isfinite(array))
    assert np.all(array[:, 2:4] >= 0)
    assert np.all(array[:, 5] >= 0) and array[:, 5].sum() > 0


def test_no_parameters_give_the_defaults() -> None:
    parsed = app_settings.parse_query_params({})
    assert parsed.ignored == ()
    assert parsed.url == {}
    assert parsed.clusters is None
    defaults = params.DEFAULTS
    # The default data shows EM at work: random responsibilities on unequal clusters.
    assert parsed.values["preset"] == "unequal_weights" == defaults.preset
    assert parsed.values["n"] == 2000
    assert parsed.values["noise"] == 1.0
    assert parsed.values["k_range"] == (1, 6)
    assert parsed.values["restarts"] == 8
    assert parsed.values["init"] == "random"
    assert parsed.values["cov"] == "full"
    assert parsed.values["max_iter"] == 100
    assert parsed.values["tol"] == 1e-3
    assert parsed.values["data_seed"] == parsed.values["init_seed"] == 0
    assert_valid_values(parsed.values)


def test_valid_parameters_are_kept_in_canonical_form() -> None:
    raw = {
        "preset": "elongated",
        "noise": "1.5",
        "n": "500",
        "data_seed": "42",
        "k_range": ["2", "5"],
        "restarts": "16",
        "init": "kmeans",
        "cov": "diag",
        "max_iter": "300",
        "tol": "1e-05",
        "init_seed": "7",
        "k": "3",
        "restart": "4",
        "sigmas": ["1", "3"],
        "view": "Columns",
    }
    parsed = app_settings.parse_query_params(raw)
    assert parsed.ignored == ()
    # Ellipses given by their older labels ("1", "3") are rewritten with their coverage.
    sigmas = ["39.3% (1σ)", "98.9% (3σ)"]
    assert parsed.url == {**raw, "k_range": ["2", "5"], "sigmas": sigmas}
    assert parsed.values["k_range"] == (2, 5)
    assert parsed.values["tol"] == 1e-5
    assert parsed.values["sigmas"] == (1, 3)
    assert parsed.values["k"] == 3 and parsed.values["restart"] == 4


@pytest.mark.parametrize(
    ("raw", "key", "expected"),
    [
        ({"n": "abc"}, "n", 2000),
        ({"n": "12.5"}, "n", 2000),
        ({"n": "99999999"}, "n", params.N_POINTS_BOUNDS[1]),
        ({"n": "0"}, "n", 1),
        ({"n": ["100", "200"]}, "n", 2000),
        ({"restarts": "65"}, "restarts", 64),
        ({"restarts": "-3"}, "restarts", 1),
        ({"noise": "nan"}, "noise", 1.0),
        ({"noise": "inf"}, "noise", 1.0),
        ({"noise": "1e400"}, "noise", 1.0),
        ({"noise": "7"}, "noise", 3.0),
        ({"init": "kmeans++"}, "init", "random"),
        ({"init": ["random", "kmeans"]}, "init", "random"),
        ({"cov": "FULL"}, "cov", "full"),
        ({"preset": "../../etc/passwd"}, "preset", "unequal_weights"),
        ({"tol": "0.5"}, "tol", 1e-3),
        ({"k_range": "3"}, "k_range", (1, 6)),
        ({"k_range": ["1", "2", "3"]}, "k_range", (1, 6)),
        ({"k_range": ["9", "0"]}, "k_range", (1, 9)),
        ({"k_range": ["2", "40"]}, "k_range", (2, 12)),
        ({"max_iter": "0"}, "max_iter", 1),
        ({"data_seed": "-1"}, "data_seed", 0),
        ({"init_seed": str(2**40)}, "init_seed", params.MAX_SEED),
        ({"k": "9"}, "k", params.BIC_CHOICE),
        ({"restart": "8"}, "restart", params.BEST_RESTART),
        ({"sigmas": ["1", "7"]}, "sigmas", (1,)),
        ({"sigmas": ["9"]}, "sigmas", (1, 2, 3)),
        ({"view": "3D"}, "view", "PCA"),
    ],
)
def test_bad_values_fall_back_or_are_clamped(raw: dict, key: str, expected: object) -> None:
    parsed = app_settings.parse_query_params(raw)
    assert parsed.values[key] == expected
    assert [ignored_key for ignored_key, _ in parsed.ignored] == [key]
    assert_valid_values(parsed.values)


def test_unknown_keys_are_listed_once_each_and_dropped() -> None:
    parsed = app_settings.parse_query_params({"foo": "1", "bar": ["a", "b"], "n": "300"})
    assert sorted(key for key, _ in parsed.ignored) == ["bar", "foo"]
    assert parsed.url == {"n": "300"}


def test_k_and_restart_are_checked_against_the_range_in_the_same_link() -> None:
    parsed = app_settings.parse_query_params({"k_range": ["3", "9"], "k": "8", "restarts": "2"})
    assert parsed.values["k"] == 8
    parsed = app_settings.parse_query_params(
        {"k_range": ["3", "4"], "k": "8", "restarts": "4", "restart": "5"}
    )
    assert parsed.values["k"] == params.BIC_CHOICE
    assert parsed.values["restart"] == params.BEST_RESTART
    assert {key for key, _ in parsed.ignored} == {"k", "restart"}


def test_cluster_codec_round_trips_exactly() -> None:
    table = cluster_table.preset_clusters("k_mismatch") + (
        (0.1 + 0.2, -1e-9, 0.0, 2.5, -45.0, 1 / 3),
    )
    text = cluster_table.encode_clusters(table)
    assert cluster_table.decode_clusters(text) == table
    assert cluster_table.encode_clusters(((1.0, 2.0, 1.0, 1.0, 0.0, 1.0),)) == "1,2,1,1,0,1"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1,2,3",
        "1,2,3,4,5,6;",
        "1,2,-1,1,0,1",
        "1,2,1,1,0,0",
        "nan,2,1,1,0,1",
        "1,2,1,1,0,inf",
        "1e999,2,1,1,0,1",
        "5000,0,1,1,0,1",
        ";".join(["0,0,1,1,0,1"] * (cluster_table.MAX_CLUSTERS + 1)),
        "0,0,1,1,0,1" + " " * 3000,
    ],
)
def test_bad_cluster_parameters_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        cluster_table.decode_clusters(text)
    parsed = app_settings.parse_query_params({"clusters": text})
    assert parsed.clusters is None
    assert [key for key, _ in parsed.ignored] == ["clusters"]


def test_cluster_parameter_equal_to_the_preset_is_dropped_from_the_url() -> None:
    text = cluster_table.encode_clusters(cluster_table.preset_clusters("overlapping"))
    parsed = app_settings.parse_query_params({"preset": "overlapping", "clusters": text})
    assert parsed.clusters == cluster_table.preset_clusters("overlapping")
    assert "clusters" not in parsed.url
    other = app_settings.parse_query_params({"clusters": text})
    assert other.url["clusters"] == text


def test_cluster_rows_say_what_to_change() -> None:
    good = [[0, 0, 1, 1, 0, 1]]
    assert cluster_table.validate_cluster_rows(good) == (((0.0, 0.0, 1.0, 1.0, 0.0, 1.0),), [])
    table, problems = cluster_table.validate_cluster_rows([])
    assert table == () and "empty" in problems[0]
    _, problems = cluster_table.validate_cluster_rows([[0, 0, -1, 1, 0, 1]])
    assert problems == ["Row 1: 'spread σx' is negative; make it 0 or more."]
    _, problems = cluster_table.validate_cluster_rows(
        [[0, 0, 1, 1, 0, 1], [None, 0, 1, float("nan"), 0, 1]]
    )
    assert len(problems) == 2 and all(p.startswith("Row 2") for p in problems)
    _, problems = cluster_table.validate_cluster_rows([[0, 0, 1, 1, 0, 0]])
    assert "positive weight" in problems[0]


def test_every_preset_table_is_valid_and_matches_gmm_core() -> None:
    for name, spec in PRESETS.items():
        table = cluster_table.preset_clusters(name)
        assert_valid_table(table)
        assert cluster_table.validate_cluster_rows(table) == (table, [])
        np.testing.assert_array_equal(np.asarray(table)[:, : spec.n_features], spec.means)


def test_settings_from_defaults() -> None:
    parsed = app_settings.parse_query_params({})
    table = cluster_table.preset_clusters(parsed.values["preset"])
    result = app_settings.settings_from_values(parsed.values, table)
    assert result.data_key == (table, 1.0, 2000, 0, 2, "")
    assert result.fit_key == gmm_core.FitSettings(1, 6, 8, init_params="random", snapshots=64)
    assert result.fit_key == params.FIT_DEFAULTS and result.fit_key is result.fit
    assert result.true_k == 3
    assert result.synthetic_problems() == []
    fewer = app_settings.settings_from_values({**parsed.values, "n": 3}, table)
    assert "lower the largest K" in fewer.synthetic_problems()[0]


def test_warning_text_escapes_untrusted_keys() -> None:
    text = sidebar.describe_ignored([("[x](http://evil)", "unknown setting"), ("<b>", "x")])
    assert "](" not in text and "<b>" not in text
    assert text.startswith("Some settings in the link were ignored:")
    many = sidebar.describe_ignored([(f"k{i}", "unknown setting") for i in range(20)])
    assert many.endswith("and 12 more.")


TEXT = st.text(max_size=80)
VALUES = st.one_of(TEXT, st.lists(TEXT, max_size=4))
NUMERIC_TEXT = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " 3 ", "1_000", "0x10", "١٢", "1e-3", "8.0", "+5", "--1"]),
)
PARAM_VALUES = st.one_of(VALUES, NUMERIC_TEXT, st.lists(NUMERIC_TEXT, max_size=3))
RAW_PARAMS = st.dictionaries(
    st.one_of(st.sampled_from(KNOWN_KEYS), TEXT), PARAM_VALUES, max_size=len(KNOWN_KEYS) + 3
)


@settings(max_examples=300, deadline=None)
@given(raw=RAW_PARAMS)
def test_random_parameters_never_raise_and_give_valid_settings(raw: dict) -> None:
    parsed = app_settings.parse_query_params(raw)
    assert_valid_values(parsed.values)
    if parsed.clusters is not None:
        assert_valid_table(parsed.clusters)
    table = parsed.clusters or cluster_table.preset_clusters(parsed.values["preset"])
    result = app_settings.settings_from_values(parsed.values, table)
    assert result.fit.init_params in INIT_METHODS
    assert result.fit.covariance_type in COVARIANCE_TYPES
    assert 1 <= result.fit.k_min <= result.fit.k_max <= params.K_BOUNDS[1]
    assert 1 <= result.fit.n_restarts <= 64
    assert math.isfinite(result.noise) and result.noise > 0
    # The cleaned URL reads back to the same values without complaints.
    again = app_settings.parse_query_params(parsed.url)
    assert again.ignored == ()
    assert again.values == parsed.values
    # Every key that was not used as given is reported, and nothing else.
    reported = {key for key, _ in parsed.ignored}
    assert reported <= set(raw)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.lists(
            st.one_of(
                st.floats(allow_nan=True, allow_infinity=True),
                st.none(),
                st.text(max_size=5),
            ),
            min_size=6,
            max_size=6,
        ),
        max_size=14,
    )
)
def test_random_tables_never_raise(rows: list[list[object]]) -> None:
    table, problems = cluster_table.validate_cluster_rows(rows)
    assert bool(table) != bool(problems)
    if table:
        assert_valid_table(table)
        assert cluster_table.decode_clusters(cluster_table.encode_clusters(table)) == table


@settings(max_examples=200, deadline=None)
@given(table=VALID_TABLES)
def test_any_valid_table_round_trips_through_the_url(table: cluster_table.ClusterTable) -> None:
    text = cluster_table.encode_clusters(table)
    parsed = app_settings.parse_query_params({"clusters": text, "preset": "elongated"})
    assert parsed.ignored == ()
    assert parsed.clusters == table


def test_a_preset_link_sets_its_k_range_unless_it_gives_one() -> None:
    parsed = app_settings.parse_query_params({"preset": "k_mismatch"})
    assert parsed.values["k_range"] == (1, 4) and parsed.ignored == ()
    assert parsed.url["k_range"] == ["1", "4"]
    given = app_settings.parse_query_params({"preset": "k_mismatch", "k_range": ["2", "7"]})
    assert given.values["k_range"] == (2, 7)
    assert app_settings.parse_query_params({"preset": "four_blobs"}).values["k_range"] == (1, 6)


def test_ellipses_can_be_chosen_by_coverage() -> None:
    parsed = app_settings.parse_query_params({"sigmas": ["39.3% (1σ)", "90% (2.15σ)"]})
    assert parsed.ignored == ()
    one, ninety = parsed.values["sigmas"]
    assert one == 1.0 and ninety == pytest.approx(2.1460, abs=1e-4)
    assert parsed.url["sigmas"] == ["39.3% (1σ)", "90% (2.15σ)"]
    labels = [params.format_sigma(s) for s in params.SIGMA_OPTIONS]
    assert labels == [
        "39.3% (1σ)",
        "86.5% (2σ)",
        "98.9% (3σ)",
        "50% (1.18σ)",
        "90% (2.15σ)",
        "95% (2.45σ)",
    ]


@pytest.mark.parametrize(
    ("given", "value", "note"),
    [
        ("0,1,2,5,20", (0, 1, 2, 5, 20), None),
        ("20, 5,5,0", (0, 5, 20), None),
        ("3", (3,), None),
        ("1,x", params.DEFAULTS.panels, "not a comma-separated list of whole numbers"),
        ("", params.DEFAULTS.panels, "not a comma-separated list of whole numbers"),
        ("0,5000", params.DEFAULTS.panels, "iterations must lie in 0–1000"),
        ("-1", params.DEFAULTS.panels, "iterations must lie in 0–1000"),
        (",".join(map(str, range(11))), params.DEFAULTS.panels, "at most 10 iterations"),
    ],
)
def test_panels_parse_a_short_list_of_iterations(
    given: str, value: tuple[int, ...], note: str | None
) -> None:
    parsed = app_settings.parse_query_params({"panels": given})
    assert parsed.values["panels"] == value
    reasons = dict(parsed.ignored)
    if note is None:
        assert "panels" not in reasons
    else:
        assert reasons["panels"].startswith(note) and "using 0,1,2,5,20" in reasons["panels"]
        assert "panels" not in parsed.url


def test_a_real_data_preset_ignores_a_cluster_table_and_sets_its_k_range() -> None:
    table = cluster_table.encode_clusters(cluster_table.preset_clusters("four_blobs"))
    parsed = app_settings.parse_query_params({"preset": "old_faithful", "clusters": table})
    assert parsed.clusters is None and "clusters" not in parsed.url
    assert dict(parsed.ignored)["clusters"] == "old_faithful is a fixed data set"
    assert parsed.values["k_range"] == SHIPPED["old_faithful"].k_range
    settings = app_settings.settings_from_values(parsed.values, ())
    assert settings.data_key == ((), 0.0, 272, 0, 2, "old_faithful")
    assert settings.true_k is None and settings.synthetic_problems() == []
    assert settings.as_dict()["data"] == SHIPPED["old_faithful"].source


def test_reg_covar_reads_any_text_of_an_option_and_warns_on_others() -> None:
    parsed = app_settings.parse_query_params({"reg_covar": "1e-5", "tol": "1e-04"})
    assert parsed.values["reg_covar"] == 1e-5 and parsed.url["reg_covar"] == "1e-05"
    assert parsed.values["tol"] == 1e-4 and parsed.ignored == ()
    zero = app_settings.parse_query_params({"reg_covar": "0"})
    assert zero.values["reg_covar"] == 0.0 and zero.url["reg_covar"] == "0"
    for bad in ("-1", "2e-3", "nan", "abc"):
        parsed = app_settings.parse_query_params({"reg_covar": bad, "tol": "1e-04"})
        assert parsed.values["reg_covar"] == 1e-6, bad
        assert parsed.values["tol"] == 1e-4, bad  # the other settings are kept
        assert [key for key, _ in parsed.ignored] == ["reg_covar"], bad


def test_reg_covar_is_part_of_the_sweep_cache_key() -> None:
    parsed = app_settings.parse_query_params({"reg_covar": "0"})
    table = cluster_table.preset_clusters(parsed.values["preset"])
    zero = app_settings.settings_from_values(parsed.values, table)
    default = app_settings.default_settings()
    assert zero.fit_key != default.fit_key
    assert zero.fit_key.replace(reg_covar=default.fit.reg_covar) == default.fit_key
    assert hash(zero.fit_key.replace(reg_covar=1e-6)) == hash(default.fit_key)
    assert zero.as_dict()["reg_covar"] == 0.0


def test_a_one_dimensional_preset_draws_one_column_from_its_table() -> None:
    parsed = app_settings.parse_query_params({"preset": "skewed_1d"})
    table = cluster_table.preset_clusters("skewed_1d")
    settings = app_settings.settings_from_values(parsed.values, table)
    assert settings.data_key.n_features == 1
    points, labels = datasets.draw_synthetic(settings.data_key)
    truth = datasets.settings_truth(settings.data_key)
    assert points.shape == (settings.n_points, 1) and truth.means.shape == (3, 1)
    np.testing.assert_allclose(truth.covariances[:, 0, 0], [0.8**2, 1.2**2, 2.0**2])
    assert set(np.unique(labels)) == {0, 1, 2}


def test_a_preset_link_carries_its_suggested_init_unless_the_link_says_otherwise() -> None:
    parsed = app_settings.parse_query_params({"preset": "singularity"})
    assert parsed.values["init"] == "k-means++" and parsed.url["init"] == "k-means++"
    chosen = app_settings.parse_query_params({"preset": "singularity", "init": "kmeans"})
    assert chosen.values["init"] == "kmeans"
    assert app_settings.parse_query_params({"preset": "four_blobs"}).values["init"] == "k-means++"
    assert app_settings.parse_query_params({"preset": "unequal_weights"}).values["init"] == "random"
