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

#: Ellipse drawn if min eigenvalue >= -this·max |eigenvalue|: ~5e6 eps forgives eigh's rounding.
ELLIPSE_PSD_RTOL = 1e-9
#: Given cluster covariance is PSD if min eigenvalue >= -this·max |entry|: ~5e5 eps of rounding.
SAMPLING_PSD_RTOL = 1e-10
#: Given cluster covariance is symmetric if |C - Cᵀ| <= this·max |entry|: typed entries round.
SAMPLING_SYMMETRY_RTOL = 1e-8

# --------------------------------------------------------------------------- EM steps

#: Below this mass (in points) a component is empty: it keeps its last mean and covariance.
EMPTY_COMPONENT_MASS = 1e-6
#: Added to every component's mass before dividing: 10 float64 eps, as scikit-learn does.
MASS_EPSILON = 10 * float(np.finfo(np.float64).eps)
#: reg_covar > 0 is floored at this many eps × largest variance: Cholesky never fails by rounding.
REG_FLOOR_EPS = 64.0
#: Largest relative drop of the log-likelihood a step may make: 100× below the 1e-10 promised.
DECREASE_TOLERANCE = 1e-12

# --------------------------------------------------------------------------- E-step precision

#: An E step leaves float32 above this estimated log-density error: a thousandth of a nat.
FLOAT32_RISK_LIMIT = 1e-3
#: An E step centres its differences above this float64 error: below the app's smallest tol.
FLOAT64_RISK_LIMIT = 1e-9
#: E-step rounding stays below this fraction of tol, so rounding never decides convergence.
TOL_NOISE_FRACTION = 0.1
#: Relative precision the M step's scatter keeps (about float32's eps); below it sums are centred.
SCATTER_RELATIVE_ERROR = 1e-7

# --------------------------------------------------------------------------- other

#: Lloyd stops when centres move less than this × the mean variance: scikit-learn's KMeans default.
KMEANS_TOL = 1e-4
#: Floor of a sum or probability before a division or log: keeps 0/0 and log 0 finite.
POSITIVE_FLOOR = 1e-300
#: A restart within this of the best final mean log-likelihood "reached the best": the default tol.
NEAR_BEST_TOLERANCE = 1e-3
