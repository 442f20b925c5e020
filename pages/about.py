"""About: what EM does and what the dashboard computes.

A thin page: widgets and layout from gmm_app; must not import JAX or Plotly.
"""

from __future__ import annotations

import streamlit as st

from gmm_app import presenter, sidebar

sidebar.current_settings()
presenter.page_heading("About GMM Explorer", "")
st.markdown(
    r"""
A **Gaussian mixture model** says each point comes from one of $K$ Gaussian clusters,
chosen with probabilities $w_1, \dots, w_K$. **Expectation–maximisation (EM)** fits it by
repeating two steps:

1. **E step** — for every point, the probability that each component produced it
   (its *responsibilities*), given the current means, covariances and weights;
2. **M step** — new weights, means and covariances: the responsibility-weighted
   proportions, averages and spreads.

Each iteration never lowers the log-likelihood, and EM stops when the mean
log-likelihood per point changes by less than `tol` (or after `max_iter` iterations).
It only finds a *local* optimum that depends on the starting point, which is why
every K is fitted from several **restarts**.

**What the app computes.** For every K in the range and every restart, one compiled
program (JAX, in `gmm_core`) runs EM; the first fit of a new shape compiles it, later
fits reuse it (the status box shows compile and run time apart).

* Restart *r* of K starts from the random key
  `fold_in(fold_in(key(seed), K), r)`, so a restart does not change when the range
  or the number of restarts changes.
* The **best restart** of a K is the one with the highest final log-likelihood.
* **K is chosen** by the lowest BIC of each K's best restart, where
  BIC $= -2 \log L + p \ln N$ with $p$ free parameters and $N$ points.
* Fitted components are matched to the true clusters by the **Hungarian method**, so
  colours correspond; the **ARI** compares the fit's hard labels with the true ones.
* **`reg_covar`** is added to every covariance's diagonal after each M step, so no
  component can become narrower than it. Without it a component can sit on a few identical
  points: its covariance goes to zero and the likelihood to infinity (the singularity
  preset shows this). Such a fit is reported as *failed*, never as a number.
* **One dimension** (the `_1d` presets, or a CSV with one numeric column) is drawn as a
  histogram with each component's weighted density and their sum, the mixture.
* An upload's **label column** (a few distinct integers or strings) can be the truth: it is
  not fitted, and the ARI and the dashed ellipses come from its groups.

Every setting lives in the page address: copy it to share exactly what you see.
"""
)
st.subheader("Pages")
st.page_link("pages/explore.py", label="Explore: ellipses, animation, log-likelihood", icon="🔭")
st.page_link("pages/model_selection.py", label="Model selection: BIC, AIC against K", icon="📉")
st.page_link("pages/restarts.py", label="Restarts: every restart and init methods", icon="🔁")
st.page_link("pages/your_data.py", label="Your data: fit a CSV file", icon="📄")
