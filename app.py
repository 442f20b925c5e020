"""GMM Explorer: fit Gaussian mixtures by EM for a whole K range and watch it converge.

Run with ``streamlit run app.py``. This entry point sets the page configuration, draws
the sidebar shared by every page (its settings live in the URL) and runs the page.

A thin entry point: navigation only; must not import JAX or Plotly.
"""

from __future__ import annotations

import streamlit as st

from gmm_app import fit_flow, lecture, presenter, profiling, sidebar

collapsed = {"initial_sidebar_state": "collapsed"} if presenter.presenting() else {}
st.set_page_config(**{**sidebar.PAGE_CONFIG, **collapsed})
sidebar.startup()  # once per process: the persistent compilation cache
fit_flow.warm_default_sweep()  # once per process: the default view's sweep, in the background
profiling.install()  # GMM_PROFILE=1 only: time Plotly's JSON

PAGES = [
    st.Page("pages/explore.py", title="Explore", icon="🔭", default=True),
    st.Page("pages/model_selection.py", title="Model selection", icon="📉"),
    st.Page("pages/restarts.py", title="Restarts", icon="🔁"),
    st.Page("pages/your_data.py", title="Your data", icon="📄"),
    st.Page("pages/lecture.py", title="Lecture", icon="🎓", url_path="lecture"),
    st.Page("pages/about.py", title="About", icon="ℹ️"),
]

navigation = st.navigation(PAGES)
lecture.open_pending_slide()  # a slide's settings reach the widgets before they are drawn
with profiling.phase("sidebar"):
    sidebar.render_sidebar()
with profiling.phase("page"):
    navigation.run()
