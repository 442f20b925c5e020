"""The frozen :class:`Settings` record, the cache keys it yields and the URL → values parse.

:func:`parse_query_params` validates untrusted query parameters once per session;
:func:`settings_from_values` builds the :class:`Settings` that every page reads.
:class:`DataKey` is the plain-value cache key of the data; the sweep's is its
:class:`gmm_core.FitSettings`.

Pure: no Streamlit. Must not import the widget, flow or view modules of ``gmm_app``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from gmm_app.cluster_table import (
    ClusterTable,
    decode_clusters,
    encode_clusters,
    preset_clusters,
    preset_features,
)
from gmm_app.param_types import Means
from gmm_app.params import (
    CLUSTERS_KEY,
    COVARIANCE,
    DATA_SEED,
    DEFAULTS,
    FIT_DEFAULTS,
    INIT,
    INIT_MEANS,
    INIT_SEED,
    K_KEY,
    K_RANGE,
    MAX_ITER,
    N_POINTS,
    NOISE,
    PAGE_PARAMS,
    PRESET,
    QUERY_KEYS,
    REG_COVAR,
    RESTART_KEY,
    RESTARTS,
    SIDEBAR_PARAMS,
    TOL,
    is_shipped,
    k_choice_param,
    preset_init,
    preset_k_range,
    restart_choice_param,
)
from gmm_core import SHIPPED, FitSettings, load_shipped

SETTINGS_STATE = "settings"
"""Where the sidebar keeps this run's :class:`Settings` in ``st.session_state``."""


class DataKey(NamedTuple):
    """Everything that fixes the data set of a preset (plain values, a cache key).

    ``clusters`` holds rows ``(x, y, σx, σy, rotation in degrees, weight)``; with
    ``n_features == 1`` only x, σx and the weight are used. For a shipped real data set
    ``shipped`` names it, ``clusters`` is empty, ``noise`` and ``seed`` are 0 and
    ``n_points`` is its number of rows.
    """

    clusters: ClusterTable
    noise: float
    n_points: int
    seed: int
    n_features: int = 2
    shipped: str = ""


# --------------------------------------------------------------------------- URL parsing


@dataclass(frozen=True)
class ParsedQuery:
    """Validated query parameters.

    Attributes
    ----------
    values
        A value for every key of :data:`QUERY_KEYS` except ``clusters``; defaults fill gaps.
    clusters
        The table from the ``clusters`` parameter, or None when absent or invalid.
    url
        The parameters to keep, canonical and without defaults.
    ignored
        One entry ``(key, reason)`` per parameter that was not used as given.
    """

    values: dict[str, Any]
    clusters: ClusterTable | None
    url: dict[str, str | list[str]]
    ignored: tuple[tuple[str, str], ...] = field(default=())


def as_list(value: object) -> list[str]:
    """A query parameter's values as a list: ``"a" -> ["a"]``, ``["a", "b"]`` as it is."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        return [str(value)]
    return [str(v) for v in value]


def parse_query_params(raw: Mapping[str, object]) -> ParsedQuery:
    """Validate untrusted query parameters; never raises.

    Unknown keys are dropped; a repeated key (other than ``k_range`` and ``sigmas``),
    a wrong type or an unknown choice falls back to the default; out-of-range numbers
    are clamped. Each such case is reported in ``ignored``.

    Parameters
    ----------
    raw
        Query parameters as ``key -> value`` or ``key -> [values]`` (repeated keys).
    """
    params = {str(key): as_list(value) for key, value in raw.items()}
    values: dict[str, Any] = {}
    url: dict[str, str | list[str]] = {}
    ignored: list[tuple[str, str]] = []

    def use(param: Any, given: list[str] | None) -> None:
        if given is None:
            values[param.key] = param.default
            return
        result = param.parse(given)
        values[param.key] = result.value
        if result.url is not None:
            url[param.key] = result.url
        if result.note is not None:
            ignored.append((param.key, result.note))

    for param in (*SIDEBAR_PARAMS, *PAGE_PARAMS):
        use(param, params.get(param.key))
    preset = values[PRESET.key]
    # A preset's link sets its K range and initialisation unless the link gives them.
    for param, suggested in ((K_RANGE, preset_k_range(preset)), (INIT, preset_init(preset))):
        if param.key not in params and suggested is not None:
            values[param.key] = suggested
            if (wanted := param.canonical(suggested)) is not None:
                url[param.key] = wanted
    use(k_choice_param(values[K_RANGE.key]), params.get(K_KEY))
    use(restart_choice_param(values[RESTARTS.key]), params.get(RESTART_KEY))

    clusters: ClusterTable | None = None
    if CLUSTERS_KEY in params:
        given = params[CLUSTERS_KEY]
        if is_shipped(preset):
            ignored.append((CLUSTERS_KEY, f"{preset} is a fixed data set"))
        elif len(given) != 1:
            ignored.append((CLUSTERS_KEY, "given more than once; using the preset's clusters"))
        else:
            try:
                clusters = decode_clusters(given[0])
            except ValueError as error:
                ignored.append((CLUSTERS_KEY, f"{error}; using the preset's clusters"))
            else:
                if clusters != preset_clusters(preset):
                    url[CLUSTERS_KEY] = encode_clusters(clusters)
    for key in params:
        if key not in QUERY_KEYS:
            ignored.append((key, "unknown setting"))
    return ParsedQuery(values, clusters, url, tuple(ignored))


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """The sidebar's settings, identical on every page.

    ``fit`` is the sweep over the K range; ``init_means`` are placed starting means in
    the plotted plane (empty: none), which :attr:`fit_key` turns into one fit of K =
    their count. ``clusters`` is the validated cluster table, or ``()`` when the edited
    table is invalid; ``table_problems`` then says what to change.
    """

    preset: str
    clusters: ClusterTable
    noise: float
    n_points: int
    data_seed: int
    fit: FitSettings = FIT_DEFAULTS
    table_problems: tuple[str, ...] = ()
    init_means: Means = ()

    @property
    def shipped(self) -> bool:
        """Whether the preset is a shipped real data set (no cluster table, no truth)."""
        return is_shipped(self.preset)

    @property
    def data_key(self) -> DataKey:
        if self.shipped:
            rows = load_shipped(self.preset).shape[0]
            return DataKey((), 0.0, rows, 0, n_features=2, shipped=self.preset)
        return DataKey(
            self.clusters, self.noise, self.n_points, self.data_seed, preset_features(self.preset)
        )

    @property
    def fit_key(self) -> FitSettings:
        """The sweep's settings; with placed means, one fit of K = their count."""
        return self.fit.placed(self.init_means)

    @property
    def true_k(self) -> int | None:
        """Clusters with a positive weight (None for real data: no true clusters)."""
        return None if self.shipped else sum(1 for row in self.clusters if row[5] > 0)

    def fit_problems(self, n_points: int) -> list[str]:
        """What to change so the sweep can run on ``n_points`` points."""
        if self.init_means and n_points < len(self.init_means):
            return [
                f"Only {n_points} points but {len(self.init_means)} placed means: "
                "remove some means or use more points."
            ]
        if n_points < self.fit.k_max:
            points = "point" if n_points == 1 else "points"
            return [
                f"Only {n_points} {points} but the K range goes up to {self.fit.k_max}: "
                f"lower the largest K to at most {max(n_points, 1)} or use more points."
            ]
        return []

    def synthetic_problems(self) -> list[str]:
        """What to change before the synthetic data can be drawn and fitted."""
        return [*self.table_problems, *self.fit_problems(self.data_key.n_points)]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready settings (for downloads); for real data its source and size instead of
        the synthetic data's settings."""
        fit = self.fit
        if self.shipped:
            data = {"data": SHIPPED[self.preset].source, "n_points": self.data_key.n_points}
        else:
            data = {
                "clusters": [list(row) for row in self.clusters],
                "noise": self.noise,
                "n_points": self.n_points,
                "data_seed": self.data_seed,
            }
        return {
            "preset": self.preset,
            **data,
            "k_range": [fit.k_min, fit.k_max],
            "n_restarts": fit.n_restarts,
            "init_method": fit.init_params,
            "covariance_type": fit.covariance_type,
            "max_iter": fit.max_iter,
            "tol": fit.tol,
            "reg_covar": fit.reg_covar,
            "init_seed": fit.seed,
            **({"init_means": [list(m) for m in self.init_means]} if self.init_means else {}),
        }


def default_settings() -> Settings:
    """The settings of a link without parameters (the default preset's own clusters)."""
    return Settings(
        preset=DEFAULTS.preset,
        clusters=preset_clusters(DEFAULTS.preset),
        noise=DEFAULTS.noise,
        n_points=DEFAULTS.n,
        data_seed=DEFAULTS.data_seed,
    )


def settings_from_values(
    values: Mapping[str, Any], clusters: ClusterTable, table_problems: Sequence[str] = ()
) -> Settings:
    """Build :class:`Settings` from widget values keyed by query-parameter name."""
    k_min, k_max = values[K_RANGE.key]
    fit = FIT_DEFAULTS.replace(
        k_min=int(k_min),
        k_max=int(k_max),
        n_restarts=int(values[RESTARTS.key]),
        seed=int(values[INIT_SEED.key]),
        init_params=values[INIT.key],
        covariance_type=values[COVARIANCE.key],
        max_iter=int(values[MAX_ITER.key]),
        tol=float(values[TOL.key]),
        reg_covar=float(values[REG_COVAR.key]),
    )
    return Settings(
        preset=values[PRESET.key],
        clusters=clusters,
        noise=float(values[NOISE.key]),
        n_points=int(values[N_POINTS.key]),
        data_seed=int(values[DATA_SEED.key]),
        fit=fit,
        table_problems=tuple(table_problems),
        init_means=tuple(values.get(INIT_MEANS.key, ())),
    )
