"""CSV files that the app and browser tests upload."""

from __future__ import annotations

import numpy as np


def iris_like_csv(label_column: str = "species") -> bytes:
    """Three 4-D groups of 60 rows, named in a text column, and an integer `target` column."""
    rng = np.random.default_rng(7)
    centres = np.array([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.6, 2.0]])
    names = ("setosa", "versicolor", "virginica")
    rows = []
    for group, centre in enumerate(centres):
        for point in centre + 0.25 * rng.normal(size=(60, 4)):
            cells = ",".join(f"{value:.3f}" for value in point)
            rows.append(f"{cells},{names[group]},{group}")
    header = f"sepal_length,sepal_width,petal_length,petal_width,{label_column},target"
    return "\n".join([header, *rows]).encode()
