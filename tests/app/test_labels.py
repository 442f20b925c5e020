"""Label columns of uploads: candidates, codes, the groups' mixture and PC axis titles."""

from __future__ import annotations

import numpy as np

from gmm_app import datasets, labels, upload_view
from gmm_app.upload import parse_csv


def _csv(header: str, rows: list[str]) -> bytes:
    return "\n".join([header, *rows]).encode()


def test_text_and_integer_columns_of_few_values_are_candidates() -> None:
    rows = [f"{i * 0.37:.2f},{i % 3},{'abc'[i % 3]},{i},{i % 2 * 0.5}" for i in range(30)]
    parsed = parse_csv(_csv("x,group,name,index,half", rows))
    # `index` has 30 values, `half` is not integer: neither is a label.
    assert labels.label_candidates(parsed) == ("name", "group")
    assert "name" in parsed.ignored_columns and list(parsed.text_labels.columns) == ["name"]


def test_a_text_column_of_many_values_is_not_kept() -> None:
    parsed = parse_csv(_csv("x,id", [f"{i},row{i}" for i in range(40)]))
    assert parsed.text_labels.empty and labels.label_candidates(parsed) == ()


def test_label_rows_follow_the_dropped_rows_and_codes_are_sorted_values() -> None:
    rows = ["1,b", "2,a", ",a", "3, b ", "4,c", "5,c"]
    parsed = parse_csv(_csv("x,label", rows))
    assert parsed.n_rows == 5
    codes, names = labels.label_codes(parsed, "label")
    assert names == ("a", "b", "c")
    np.testing.assert_array_equal(codes, [1, 0, 1, 2, 2])
    np.testing.assert_array_equal(parsed.data["x"], [1, 2, 3, 4, 5])


def test_label_codes_follow_the_rows_the_chosen_columns_keep() -> None:
    rows = ["1,,b", "2,5,a", ",6,a", "3,7,c", "4,,c", "5,8,c"]
    parsed = parse_csv(_csv("x,sparse,label", rows))
    keep = parsed.usable(["x"])
    np.testing.assert_array_equal(keep, [True, True, False, True, True, True])
    codes, names = labels.label_codes(parsed, "label", keep)
    assert names == ("a", "b", "c") and codes.tolist() == [1, 0, 2, 2, 2]
    codes, names = labels.label_codes(parsed, "label", parsed.usable(["sparse"]))
    assert names == ("a", "c") and codes.tolist() == [0, 0, 1, 1]  # no gap for the absent b


def test_an_integer_column_with_a_blank_is_not_offered_as_labels() -> None:
    rows = [f"{i * 0.5},{i % 2},{'' if i == 3 else i % 3}" for i in range(20)]
    parsed = parse_csv(_csv("x,whole,gappy", rows))
    assert labels.label_candidates(parsed) == ("whole",)


def test_integer_label_codes() -> None:
    parsed = parse_csv(_csv("x,target", [f"{i},{(i % 2) * 5}" for i in range(10)]))
    codes, names = labels.label_codes(parsed, "target")
    assert names == ("0", "5") and codes.tolist() == [0, 1] * 5


def test_truth_from_labels_is_each_groups_share_mean_and_covariance() -> None:
    rng = np.random.default_rng(0)
    points = rng.normal(size=(90, 2))
    codes = np.repeat([0, 1, 2], [10, 30, 50])
    truth = datasets.truth_from_labels(points, codes)
    np.testing.assert_allclose(truth.weights, [10 / 90, 30 / 90, 50 / 90])
    np.testing.assert_allclose(truth.means[1], points[10:40].mean(axis=0))
    np.testing.assert_allclose(truth.covariances[2], np.cov(points[40:].T, bias=True))
    one_d = datasets.truth_from_labels(points[:, :1], codes)
    assert one_d.covariances.shape == (3, 1, 1)


def test_pc_titles_give_each_axis_its_share_of_the_variance() -> None:
    rng = np.random.default_rng(1)
    points = rng.normal(size=(4000, 3)) * [3.0, 2.0, 1.0]
    axes = np.eye(3)[:2]
    shares = upload_view.variance_shares(points, axes)
    np.testing.assert_allclose(shares, [9 / 14, 4 / 14], atol=0.02)
    assert upload_view.pc_titles(points, axes) == (
        f"PC 1 ({shares[0]:.0%} of variance)",
        f"PC 2 ({shares[1]:.0%} of variance)",
    )
