"""The editable true-cluster table in the sidebar, kept in the ``clusters`` query parameter.

``st.data_editor`` cannot bind to the URL, so the valid edited table is written there by
hand. Must not import the sidebar, the fit flow, the views or ``gmm_figures``.
"""

from __future__ import annotations

import streamlit as st

from gmm_app.cluster_table import (
    CLUSTER_COLUMNS,
    CLUSTER_LABELS,
    CLUSTER_LIMITS,
    COLUMNS_1D,
    ClusterTable,
    clusters_frame,
    encode_clusters,
    frame_rows,
    preset_clusters,
    preset_features,
    validate_cluster_rows,
)
from gmm_app.params import CLUSTERS_KEY

TABLE_EDITOR_KEY = "cluster_table"
_BASE_TABLE = "_cluster_base"
_URL_TABLE = "_url_clusters"


def remember_url_table(table: ClusterTable | None) -> None:
    """Keep the table read from the URL on the session's first run (None: none given)."""
    st.session_state[_URL_TABLE] = table


def reset_table(preset: str, table: ClusterTable | None = None) -> None:
    """Start the editor again from ``table`` (None: the preset's clusters), discarding edits."""
    st.session_state[_BASE_TABLE] = table or preset_clusters(preset)
    st.session_state.pop(TABLE_EDITOR_KEY, None)


def cluster_editor(preset: str) -> tuple[ClusterTable, list[str]]:
    """The editable cluster table; returns the validated table and its problems.

    A one-dimensional preset shows only the centre, spread and weight columns.
    """
    if _BASE_TABLE not in st.session_state:
        from_url = st.session_state.get(_URL_TABLE)
        st.session_state[_BASE_TABLE] = from_url or preset_clusters(preset)
    n_features = preset_features(preset)
    column_config = {
        name: st.column_config.NumberColumn(
            label, format="%.3g", required=True, min_value=low, max_value=high
        )
        for name, label, (low, high) in zip(
            CLUSTER_COLUMNS, CLUSTER_LABELS, CLUSTER_LIMITS, strict=True
        )
    }
    edited = st.data_editor(
        clusters_frame(st.session_state[_BASE_TABLE]),
        key=TABLE_EDITOR_KEY,
        num_rows="dynamic",
        hide_index=True,
        column_config=column_config,
        column_order=COLUMNS_1D if n_features == 1 else None,
        width="stretch",
    )
    table, problems = validate_cluster_rows(frame_rows(edited, n_features))
    if problems:
        st.caption(":red[The table has problems; see the message on the page.]")
    else:
        wanted = None if table == preset_clusters(preset) else encode_clusters(table)
        current = st.query_params.get(CLUSTERS_KEY)
        if wanted != current:
            if wanted is None:
                del st.query_params[CLUSTERS_KEY]
            else:
                st.query_params[CLUSTERS_KEY] = wanted
    return table, problems
