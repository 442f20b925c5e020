"""The project's shared numeric tolerances and floors, as named constants.

One home for every tolerance that more than one module uses (or that a reader would
look for here): positive semi-definiteness and symmetry tests, the E and M steps'
precision limits and floors, k-means' convergence tolerance, the floor that keeps a
division or logarithm finite, and the app's "near the best" threshold. Constants that
are a private detail of one algorithm stay in that algorithm's module.

Plain Python floats from NumPy only; must not import JAX, any other ``gmm_core``
module, ``gmm_figures``, ``gmm_app``, Streamlit or Plotly, so that anything can
import it.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "DECREASE_TOLERANCE",
    "ELLIPSE_PSD_RTOL",
    "EMPTY_COMPONENT_MASS",
    "FLOAT32_RISK_LIMIT",
    "FLOAT64_RISK_LIMIT",
    "KMEANS_TOL",
    "MASS_EPSILON",
    "NEAR_BEST_TOLERANCE",
    "POSITIVE_FLOOR",
    "REG_FLOOR_EPS",
    "SAMPLING_PSD_RTOL",
    "SAMPLING_SYMMETRY_RTOL",
    "SCATTER_RELATIVE_ERROR",
    "TOL_NOISE_FRACTION",
]

# --------------------------------------------------------------------------- covariances

#: Drawable ellipse: smallest eigenvalue >= -this · largest |eigenvalue| (geometry, spatial);
#: forgives eigh's rounding on a fitted covariance, not a truly negative eigenvalue.
ELLIPSE_PSD_RTOL = 1e-9
#: Samplable cluster covariance: smallest eigenvalue >= -this · largest |entry| (data);
#: stricter than ELLIPSE_PSD_RTOL because the matrix is given, not fitted.
SAMPLING_PSD_RTOL = 1e-10
#: Samplable cluster covariance: |C - Cᵀ| <= this · largest |entry| (data); typed or
#: rotated matrices round their off-diagonal entries, so exact symmetry is not asked.
SAMPLING_SYMMETRY_RTOL = 1e-8

# --------------------------------------------------------------------------- EM steps

#: Below this many points of responsibility mass a component is empty (estep, em): it
#: keeps its previous mean and covariance instead of dividing by almost nothing.
EMPTY_COMPONENT_MASS = 1e-6
#: Added to every component's mass before dividing (em, init), as scikit-learn does:
#: 10 · float64 eps, so an empty component gives a finite mean.
MASS_EPSILON = 10 * float(np.finfo(np.float64).eps)
#: reg_covar > 0 is raised to at least this many float64 eps times the largest variance
#: (em, init), so a rank-deficient scatter never fails its Cholesky factor by rounding.
REG_FLOOR_EPS = 64.0
#: A step may lower the log-likelihood by at most this, relative to max(1, |value|), in
#: internal units (em): a hundred times below the 1e-10 promised in original units,
#: which differ from internal ones by D · log(scale).
DECREASE_TOLERANCE = 1e-12

# --------------------------------------------------------------------------- E-step precision

#: Above this estimated float32 log-density error an E step runs in float64 (estep,
#: diagnostics): float32 may move a log-density by at most a thousandth of a nat.
FLOAT32_RISK_LIMIT = 1e-3
#: Above this estimated float64 polynomial error an E step uses centred differences
#: (estep): below the smallest tol the app offers (1e-8), far above float64's eps.
FLOAT64_RISK_LIMIT = 1e-9
#: The E step's rounding on the mean log-likelihood must stay below this fraction of tol
#: (estep, diagnostics), so rounding never decides convergence.
TOL_NOISE_FRACTION = 0.1
#: Relative precision the M step's scatter must keep; below it the sums are centred
#: (stats, estep): about float32's eps (1.2e-7), about seven significant digits.
SCATTER_RELATIVE_ERROR = 1e-7

# --------------------------------------------------------------------------- other

#: Lloyd's algorithm stops when centres move less than this times the mean variance
#: (init, seeding): scikit-learn's ``KMeans`` default.
KMEANS_TOL = 1e-4
#: Floor of a sum or probability before a division or logarithm (diagnostics, stats,
#: sweep_result, user_init, gmm_figures.uncertainty): keeps 0/0 and log 0 finite, far
#: below any real value and above float64's smallest normal number (2.2e-308).
POSITIVE_FLOOR = 1e-300
#: A restart "reached the best" when its final mean log-likelihood is within this of the
#: best one (gmm_app.summaries, gmm_app.restarts_view, gmm_figures.restart_stats): the
#: sweep's default tol, so restarts that agree to convergence count as one optimum.
NEAR_BEST_TOLERANCE = 1e-3
