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


def label_blowup_csv(n_rows: int = 100_000, long_cell: int = 3000) -> bytes:
    """Two numeric columns and a text column of ``a``/``b`` with one very long cell.

    Kept as fixed-width strings, that column took ``n_rows × long_cell × 4`` bytes
    (1.2 GB at the defaults) before it was even copied or cached.
    """
    rng = np.random.default_rng(3)
    points = rng.normal(size=(n_rows, 2)) + np.repeat([[0, 0], [5, 5]], n_rows // 2, axis=0)
    labels = ["ab"[i * 2 // n_rows] for i in range(n_rows)]
    labels[n_rows // 3] = "c" * long_cell
    rows = [f"{x:.4f},{y:.4f},{label}" for (x, y), label in zip(points, labels, strict=True)]
    return "\n".join(["x,y,group", *rows]).encode()


def upload_peak_memory(query: dict[str, str | list[str]]) -> dict[str, object]:
    """Open Your data under AppTest, upload :func:`label_blowup_csv`, and measure.

    Run in a fresh process (``python -m tests.support.uploads``), so that the peak resident
    memory (``ru_maxrss``) is this upload's and not a test run's.

    Returns
    -------
    dict with the peak resident memory in MB of this process and of its children, the
    page's errors and metrics
    """
    import resource

    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    from tests.support.apptest import APP

    original = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False  # as a server does after its first run

    PagesManager.__init__ = init  # type: ignore[method-assign]
    at = AppTest.from_file(str(APP), default_timeout=600)
    at.query_params = query
    at.run()
    at.switch_page("pages/your_data.py")
    at.run()
    at.file_uploader[0].upload("blowup.csv", label_blowup_csv(), "text/csv")
    at.run()
    usage = {who: resource.getrusage(who).ru_maxrss / 1024 for who in (0, -1)}  # kB → MB
    return {
        "peak_mb": usage[resource.RUSAGE_SELF],
        "children_peak_mb": usage[resource.RUSAGE_CHILDREN],
        "exceptions": [e.value for e in at.exception],
        "errors": [e.value for e in at.error],
        "metrics": {m.label: m.value for m in at.metric},
        "labels": at.selectbox(key="upload_labels").options,
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(upload_peak_memory(json.loads(sys.argv[1]))))
