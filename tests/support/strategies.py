"""Hypothesis strategies shared by the settings tests."""

from __future__ import annotations

from hypothesis import strategies as st

from gmm_app import cluster_table

CLUSTER_ROWS = st.lists(
    st.tuples(
        st.floats(-1000, 1000),
        st.floats(-1000, 1000),
        st.floats(0, 100),
        st.floats(0, 100),
        st.floats(-360, 360),
        st.floats(0.001, 1000),
    ),
    min_size=1,
    max_size=cluster_table.MAX_CLUSTERS,
)
"""Valid cluster tables as lists of ``(x, y, σx, σy, rotation, weight)`` rows."""

VALID_TABLES = CLUSTER_ROWS.map(tuple)
"""Valid cluster tables as tuples."""

VALID_TABLE_TEXT = CLUSTER_ROWS.map(lambda rows: cluster_table.encode_clusters(tuple(rows)))
"""Valid cluster tables as ``clusters`` query-parameter text."""
