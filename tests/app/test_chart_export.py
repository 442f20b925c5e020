"""Export for slides: the chart toolbar's image options."""

from __future__ import annotations

import pytest

from gmm_app.chart_export import chart_config, file_stem


def test_png_is_twice_the_scale_and_svg_is_vector() -> None:
    png = chart_config("gmm_x", "png")["toImageButtonOptions"]
    assert png == {"format": "png", "scale": 2, "filename": "gmm_x"}
    svg = chart_config("gmm_x", "svg")["toImageButtonOptions"]
    assert svg["format"] == "svg" and svg["filename"] == "gmm_x"
    with pytest.raises(ValueError, match="image format"):
        chart_config("gmm_x", "jpeg")


def test_file_names_come_from_the_settings_and_are_safe() -> None:
    assert file_stem("old_faithful", "explore_panels") == "gmm_old_faithful_explore_panels"
    assert file_stem(None, "restart_grid") == "gmm_restart_grid"
    assert file_stem("a/b c", "x") == "gmm_a-b-c_x"
