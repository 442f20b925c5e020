"""The shipped real data: Old Faithful read from its CSV file and standardised."""

from __future__ import annotations

import numpy as np
import pytest

from gmm_core import SHIPPED, load_shipped


def test_old_faithful_is_rs_faithful() -> None:
    raw = load_shipped("old_faithful", standardised=False)
    assert raw.shape == (272, 2)
    # R: summary(faithful) and the first and last rows of datasets::faithful.
    np.testing.assert_allclose(raw.mean(axis=0), [3.487783, 70.897059], atol=1e-6)
    np.testing.assert_allclose(raw.min(axis=0), [1.6, 43.0])
    np.testing.assert_allclose(raw.max(axis=0), [5.1, 96.0])
    np.testing.assert_allclose(raw[[0, 1, -1]], [[3.6, 79.0], [1.8, 54.0], [4.467, 74.0]])


def test_old_faithful_is_standardised_like_the_textbook_figure() -> None:
    points = load_shipped("old_faithful")
    np.testing.assert_allclose(points.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(points.std(axis=0, ddof=1), 1.0, atol=1e-12)
    points[0, 0] = 99.0  # a copy: the next load is untouched
    assert load_shipped("old_faithful")[0, 0] != 99.0


def test_every_shipped_data_set_names_its_source_and_an_unknown_name_fails() -> None:
    for spec in SHIPPED.values():
        assert spec.source and spec.description
        assert load_shipped(spec.name).shape[1] == 2
    with pytest.raises(KeyError):
        load_shipped("no_such_data")
