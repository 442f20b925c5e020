"""GMM Explorer's engine: Gaussian mixtures fitted by EM in JAX, for a whole K range at once.

Public API::

    sweep(X, FitSettings(k_min, k_max, n_restarts, ...))     # every K × every restart
    sweep(X, k_min, k_max, n_restarts, ...) -> SweepResult   # the same, by its fields
    GaussianMixture(...)                                     # scikit-learn's interface
    StuckFitWarning                                          # a fit stopped at a saddle
    make_dataset(...), PRESETS                               # synthetic data
    load_shipped(name), SHIPPED                              # real data (Old Faithful)
    match_components, adjusted_rand_index, center_errors     # comparison with the truth
    ellipse_polygon                                          # confidence ellipses

``GaussianMixture`` and ``ConvergenceWarning`` are loaded on first use, so that
``import gmm_core`` does not import scikit-learn.

Configuration. ``import gmm_core`` changes no setting and no environment variable; JAX
keeps its single CPU device unless the caller asks for more before JAX starts, e.g.
``gmm_core.cpu_devices.use_cpu_cores()`` for one per core (what the app and the
benchmark do), so that a sweep's restarts run on every core. Results do not depend on
the device count.
"""

from gmm_core.covariance_types import COVARIANCE_TYPES
from gmm_core.criteria import aic, bic, n_parameters
from gmm_core.data import DEFAULT_PRESET, PRESETS, DatasetSpec, cluster_covariance, make_dataset
from gmm_core.diagnostics import StuckFitWarning
from gmm_core.fit_settings import FitSettings
from gmm_core.geometry import ellipse_polygon, ellipse_polygons
from gmm_core.init import INIT_METHODS
from gmm_core.shipped import SHIPPED, load_shipped
from gmm_core.sweep import FittedMixture, SweepResult, compilation_count, sweep
from gmm_core.truth_matching import adjusted_rand_index, center_errors, match_components

_LAZY = {"ConvergenceWarning", "GaussianMixture"}  # from gmm_core.estimator


def __getattr__(name: str) -> object:
    """The estimator on first use: it imports scikit-learn (about 1 s), which a sweep,
    the app's server and its sweep workers never need."""
    if name in _LAZY:
        from gmm_core import estimator

        return getattr(estimator, name)
    raise AttributeError(f"module 'gmm_core' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "COVARIANCE_TYPES",
    "DEFAULT_PRESET",
    "INIT_METHODS",
    "PRESETS",
    "SHIPPED",
    "ConvergenceWarning",
    "DatasetSpec",
    "FitSettings",
    "FittedMixture",
    "GaussianMixture",
    "StuckFitWarning",
    "SweepResult",
    "adjusted_rand_index",
    "aic",
    "bic",
    "center_errors",
    "cluster_covariance",
    "compilation_count",
    "ellipse_polygon",
    "ellipse_polygons",
    "load_shipped",
    "make_dataset",
    "match_components",
    "n_parameters",
    "sweep",
]
