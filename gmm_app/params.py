"""The app's URL-bound parameters: their ranges, defaults, labels and the parameter table.

Every sidebar and page control is bound to the URL with ``bind="query-params"``; its key
is its query-parameter name. This module is the table of parameters (one
:class:`gmm_app.param_types.Param` each, which parses the URL's text): their kinds, ranges,
defaults, the labels their options show, and what each preset suggests.

Pure: no Streamlit. Must not import any ``gmm_app`` module except ``param_types``.
"""

from __future__ import annotations

from dataclasses import dataclass

from gmm_app.param_types import Param, format_means, format_number
from gmm_core import COVARIANCE_TYPES, INIT_METHODS, PRESETS, SHIPPED, FitSettings
from gmm_core.geometry import coverage_of_radius, radius_of_coverage

# --------------------------------------------------------------------------- ranges

MAX_SEED = 2**31 - 1
K_BOUNDS = (1, 12)
RESTART_BOUNDS = (1, 64)
N_POINTS_BOUNDS = (1, 50_000)
NOISE_BOUNDS = (0.1, 3.0)
NOISE_STEP = 0.05
MAX_ITER_BOUNDS = (1, 1000)
TOL_OPTIONS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8)
REG_COVAR_OPTIONS = (*(10.0**-e for e in range(1, 11)), 0.0)
"""``reg_covar`` from large to none: the slider walks a component towards collapse."""
COVERAGE_LEVELS = (0.5, 0.9, 0.95)
"""Ellipses chosen by the probability they hold in 2-D (their radius in σ follows)."""
SIGMA_OPTIONS = (1.0, 2.0, 3.0, *(radius_of_coverage(p) for p in COVERAGE_LEVELS))
VIEW_OPTIONS = ("PCA", "Columns")
TAB_OPTIONS = ("Animation", "Step", "Panels", "Ellipses", "Log-likelihood")
MAX_PANELS = 10

BIC_CHOICE = 0
BEST_RESTART = -1


# The app opens on data where EM visibly works: random responsibilities (every component
# starts near the data mean, a meaning the init rework keeps) on one big and two small
# clusters take ~24 iterations to move out, and 2 of 8 restarts end in a worse optimum
# (measured with scripts/measure_defaults.py). The easy four_blobs stays a preset.
APP_PRESET = "unequal_weights"


#: The fit of a link without parameters: gmm_core's defaults, but for the K range, the
#: restarts, the init (see APP_PRESET) and the snapshots the animation draws.
FIT_DEFAULTS = FitSettings(1, 6, 8, init_params="random", snapshots=64)


@dataclass(frozen=True)
class Defaults:
    """Default value of every setting besides the fit's (a link without parameters shows
    these and :data:`FIT_DEFAULTS`)."""

    preset: str = APP_PRESET
    noise: float = 1.0
    n: int = 2000
    data_seed: int = 0
    k: int = BIC_CHOICE
    restart: int = BEST_RESTART
    sigmas: tuple[float, ...] = SIGMA_OPTIONS[:3]
    view: str = "PCA"
    tab: str = "Animation"
    panels: tuple[int, ...] = (0, 1, 2, 5, 20)  # the textbook figure's iterations


DEFAULTS = Defaults()


# --------------------------------------------------------------------------- labels


def format_tol(value: float) -> str:
    """Label of a tolerance option, e.g. ``"1e-03"`` (also its query-parameter text)."""
    return f"{value:.0e}"


def format_reg_covar(value: float) -> str:
    """Label of a ``reg_covar`` option, e.g. ``"1e-06"``, or ``"0"`` (also its URL text)."""
    return "0" if value == 0 else f"{value:.0e}"


def format_sigma(value: float) -> str:
    """Label of an ellipse, named by the probability it holds in 2-D (also its URL text).

    ``"39.3% (1σ)"``, ``"86.5% (2σ)"``, ``"98.9% (3σ)"``, or ``"90% (2.15σ)"`` for the
    ellipses chosen by their coverage.
    """
    if float(value).is_integer():
        return f"{coverage_of_radius(value):.1%} ({int(value)}σ)"
    return f"{coverage_of_radius(value):.0%} ({value:.2f}σ)"


PRESET = Param("preset", "choice", DEFAULTS.preset, options=(*PRESETS, *SHIPPED))
NOISE = Param("noise", "float", DEFAULTS.noise, *NOISE_BOUNDS, NOISE_STEP, label=format_number)
N_POINTS = Param("n", "int", DEFAULTS.n, *N_POINTS_BOUNDS)
DATA_SEED = Param("data_seed", "int", DEFAULTS.data_seed, 0, MAX_SEED)
K_RANGE = Param("k_range", "range", (FIT_DEFAULTS.k_min, FIT_DEFAULTS.k_max), *K_BOUNDS)
RESTARTS = Param("restarts", "int", FIT_DEFAULTS.n_restarts, *RESTART_BOUNDS)
INIT = Param("init", "choice", FIT_DEFAULTS.init_params, options=INIT_METHODS)
COVARIANCE = Param("cov", "choice", FIT_DEFAULTS.covariance_type, options=COVARIANCE_TYPES)
MAX_ITER = Param("max_iter", "int", FIT_DEFAULTS.max_iter, *MAX_ITER_BOUNDS)
TOL = Param("tol", "choice", FIT_DEFAULTS.tol, options=TOL_OPTIONS, label=format_tol)
REG_COVAR = Param(
    "reg_covar", "number", FIT_DEFAULTS.reg_covar, options=REG_COVAR_OPTIONS, label=format_reg_covar
)
INIT_SEED = Param("init_seed", "int", FIT_DEFAULTS.seed, 0, MAX_SEED)
SIGMAS = Param(
    "sigmas",
    "multi",
    DEFAULTS.sigmas,
    options=SIGMA_OPTIONS,
    label=format_sigma,
    aliases=(("1", 1.0), ("2", 2.0), ("3", 3.0)),
)
VIEW = Param("view", "choice", DEFAULTS.view, options=VIEW_OPTIONS)
TAB = Param("tab", "choice", DEFAULTS.tab, options=TAB_OPTIONS)
STEP = Param("step", "int", 0, 0, 2 * MAX_ITER_BOUNDS[1])
PANELS = Param(
    "panels",
    "iterations",
    DEFAULTS.panels,
    high=MAX_ITER_BOUNDS[1],
    label=lambda value: ",".join(map(str, value)),
    max_count=MAX_PANELS,
)
PRESENT = Param(
    "present", "choice", False, options=(False, True), label=lambda on: "1" if on else "0"
)
INIT_MEANS = Param("init_means", "means", (), label=format_means, max_count=K_BOUNDS[1])
UNCERTAINTY = Param(
    "uncertainty", "choice", False, options=(False, True), label=lambda on: str(on).lower()
)
CLUSTERS_KEY = "clusters"
K_KEY = "k"
RESTART_KEY = "restart"
SLIDE_KEY = "slide"  # the Lecture page's slide (from 1) and deck (gmm_app.lecture)
DECK_KEY = "deck"

SIDEBAR_PARAMS = (
    PRESET,
    NOISE,
    N_POINTS,
    DATA_SEED,
    K_RANGE,
    RESTARTS,
    INIT,
    COVARIANCE,
    MAX_ITER,
    TOL,
    REG_COVAR,
    INIT_SEED,
    INIT_MEANS,
)
PAGE_PARAMS = (SIGMAS, VIEW, TAB, STEP, PANELS, PRESENT, UNCERTAINTY)
QUERY_KEYS = (
    *(p.key for p in SIDEBAR_PARAMS),
    CLUSTERS_KEY,
    K_KEY,
    RESTART_KEY,
    *(p.key for p in PAGE_PARAMS),
    SLIDE_KEY,
    DECK_KEY,
)


def k_choice_param(k_range: tuple[int, int]) -> Param:
    """The K chooser: the BIC's choice (labelled "BIC") or any K of the range."""
    options = (BIC_CHOICE, *range(k_range[0], k_range[1] + 1))
    label = lambda k: "BIC" if k == BIC_CHOICE else str(k)  # noqa: E731
    return Param(K_KEY, "choice", BIC_CHOICE, options=options, label=label)


def restart_choice_param(n_restarts: int) -> Param:
    """The restart chooser: the best restart (labelled "best") or any restart index."""
    options = (BEST_RESTART, *range(n_restarts))
    label = lambda r: "best" if r == BEST_RESTART else str(r)  # noqa: E731
    return Param(RESTART_KEY, "choice", BEST_RESTART, options=options, label=label)


def is_shipped(preset: str) -> bool:
    """Whether a preset is a shipped real data set (a fixed table, no true clusters)."""
    return preset in SHIPPED


def preset_k_range(preset: str) -> tuple[int, int]:
    """The K range a preset's link sets (unless the link gives ``k_range``)."""
    return SHIPPED[preset].k_range if is_shipped(preset) else PRESETS[preset].k_range


def preset_init(preset: str) -> str | None:
    """The init method a preset's link suggests (unless the link gives ``init``), or None."""
    return None if is_shipped(preset) else PRESETS[preset].init_params


def preset_description(preset: str) -> str:
    """One sentence on a preset's data, for the sidebar."""
    return SHIPPED[preset].description if is_shipped(preset) else PRESETS[preset].description
