"""Lecture: a deck of live views, each a slide with a title and a takeaway, for a clicker.

A thin page: widgets and layout from gmm_app; must not import JAX or Plotly.
"""

from __future__ import annotations

from gmm_app import lecture

lecture.lecture_page()
