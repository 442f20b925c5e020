"""``GaussianMixture``: a scikit-learn estimator whose EM runs as one compiled sweep.

The ``n_init`` inits run in parallel as one sweep with ``k_min == k_max``; as in
scikit-learn, the init with the highest final lower bound wins. The class follows
scikit-learn's conventions (``BaseEstimator``, ``DensityMixin``, parameter
constraints, ``validate_data``, ``check_is_fitted``), so ``clone``, pipelines and
grid searches work, and it passes ``check_estimator``.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from gmm_core import _estimator_support as support
from gmm_core import checks as check
from gmm_core.covariance_types import COVARIANCE_TYPES, covariance_kind
from gmm_core.criteria import n_parameters
from gmm_core.density import log_responsibilities
from gmm_core.diagnostics import StuckFitWarning
from gmm_core.fit_settings import FitSettings
from gmm_core.init import INIT_METHODS
from gmm_core.sweep import SweepResult, sweep

#: Checks of ``sklearn.utils.estimator_checks`` that cannot pass, with the reason.
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


class GaussianMixture(DensityMixin, BaseEstimator):
    """Gaussian mixture fitted by EM: scikit-learn 1.9's ``GaussianMixture``, run in JAX.

    Parameters
    ----------
    n_components, covariance_type, tol, reg_covar, max_iter, n_init, init_params,
    weights_init, means_init, precisions_init, random_state, warm_start, verbose,
    verbose_interval
        As in ``sklearn.mixture.GaussianMixture``. ``init_params`` also accepts
        ``"standard_normal"``. ``random_state`` also accepts a NumPy ``Generator``;
        it becomes the sweep's key ``jax.random.key(seed)``: an int is the seed itself,
        None draws the seed from NumPy's global ``RandomState``, a ``RandomState`` or
        ``Generator`` gives one draw. ``sample`` draws with scikit-learn's generator.
    dtype : "float32" (default, fast) or "float64" for the E step; the statistics and
        every attribute are float64 either way.

    Attributes
    ----------
    weights_ : (K,); means_ : (K, D)
    covariances_, precisions_, precisions_cholesky_ : (K, D, D) full, (D, D) tied,
        (K, D) diag, (K,) spherical
    converged_ : bool; n_iter_ : int
    stuck_ : bool, the chosen fit stopped with near-duplicate components (a saddle;
        see :mod:`gmm_core.diagnostics`), and a :class:`StuckFitWarning` said so
    lower_bound_ : float, mean log-likelihood per point at the last iteration's E step
    lower_bounds_ : list of ``n_iter_`` floats, the lower bound at each iteration
    n_features_in_ : int; feature_names_in_ : (D,) when X has string column names
    sweep_result_ : SweepResult of the last fit (every init's trace)
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions(set(COVARIANCE_TYPES))],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init_params": [StrOptions(set(INIT_METHODS))],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
        "random_state": ["random_state", np.random.Generator],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
        "dtype": [StrOptions({"float32", "float64"})],
    }

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = FitSettings.covariance_type,
        tol: float = FitSettings.tol,
        reg_covar: float = FitSettings.reg_covar,
        max_iter: int = FitSettings.max_iter,
        n_init: int = 1,
        init_params: str = "kmeans",
        weights_init: object = None,
        means_init: object = None,
        precisions_init: object = None,
        random_state: object = None,
        warm_start: bool = False,
        verbose: int = 0,
        verbose_interval: int = 10,
        dtype: str = FitSettings.dtype,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.dtype = dtype

    def fit(self, X: object, y: object = None) -> GaussianMixture:
        """Fit the mixture to X (n_samples, n_features); returns self.

        With ``warm_start`` a second fit continues from the fitted parameters, one init.
        """
        self.fit_predict(X, y)
        return self

    def fit_predict(self, X: object, y: object = None) -> np.ndarray:
        """Fit, then return the most probable component of each point, (n_samples,)."""
        self._validate_params()
        data = self._validated(X, reset=True)
        n_samples, n_features = data.shape
        if n_samples < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components but got n_components = "
                f"{self.n_components}, n_samples = {n_samples}. Too few points: lower "
                "n_components or add data."
            )
        do_init = not (
            self.warm_start and hasattr(self, "converged_") and self.means_.shape[1] == n_features
        )
        starts = self._user_starts(n_features) if do_init else self._fitted_starts()
        previous = -np.inf if do_init else self.lower_bound_
        if self.max_iter == 0 and not do_init:
            self._finish(self.weights_, self.means_, self._full_covariances, [], False)
            return self._labels(data)
        n_init = self.n_init if do_init else 1
        settings = FitSettings(
            self.n_components,
            self.n_components,
            n_init,
            seed=support.seed_from(self.random_state) if do_init else 0,
            init_params=self.init_params,
            covariance_type=self.covariance_type,
            max_iter=max(self.max_iter, 1),
            tol=self.tol,
            reg_covar=self.reg_covar,
            dtype=self.dtype,
            snapshots=0 if do_init else 2,
        )
        result = sweep(data, settings, **starts)
        self.sweep_result_ = result
        if self.max_iter == 0:
            self._initial_only(result)
        else:
            self._best_init(result, previous)
        if not self.converged_ and self.max_iter > 0:
            warnings.warn(
                "Best performing initialization did not converge. Try different init "
                "parameters, or increase max_iter, tol, or check for degenerate data.",
                ConvergenceWarning,
                stacklevel=2,
            )
        if self.stuck_:
            warnings.warn(
                "The best initialization stopped at a saddle: its components are near-"
                "duplicates of one another, so the fit is no better than fewer components. "
                "Try a smaller tol, another init_params (for example 'k-means++') or more "
                "n_init.",
                StuckFitWarning,
                stacklevel=2,
            )
        return self._labels(data)

    def _validated(self, X: object, reset: bool) -> np.ndarray:
        """X through scikit-learn's ``validate_data``; a failure adds gmm_core's hint."""
        try:
            data = validate_data(
                self,
                X,
                reset=reset,
                dtype=[np.float64, np.float32],
                ensure_min_samples=2 if reset else 1,
            )
        except ValueError as error:
            try:  # gmm_core's own description of what is wrong with X, when it sees one
                check.as_data_matrix(X)
            except ValueError as hint:
                if str(hint) not in str(error):
                    raise ValueError(f"{error} {hint}") from error
            raise
        return np.asarray(data, np.float64)

    def _user_starts(self, n_features: int) -> dict[str, np.ndarray | None]:
        """Checked ``weights_init``, ``means_init`` and ``precisions_init`` for the sweep."""
        k = self.n_components
        return {
            "weights_init": None
            if self.weights_init is None
            else support.checked_weights(self.weights_init, k),
            "means_init": None
            if self.means_init is None
            else support.checked_means(self.means_init, k, n_features),
            "precisions_init": None
            if self.precisions_init is None
            else support.checked_precisions(
                self.precisions_init, self.covariance_type, k, n_features
            ),
        }

    def _fitted_starts(self) -> dict[str, np.ndarray]:
        """The fitted parameters as the starts of a warm-started fit."""
        return {
            "weights_init": self.weights_,
            "means_init": self.means_,
            "precisions_init": self.precisions_,
        }

    def _initial_only(self, result: SweepResult) -> None:
        """``max_iter=0``: the last init's initial parameters, as scikit-learn keeps."""
        k, last = self.n_components, result.n_restarts - 1
        start = result.initial[0, last, :k]
        weights, means, covariances = start.weights, start.means, start.covariances
        self._check_well_defined(covariances, weights, means)
        report = support.VerboseReport(self.verbose, self.verbose_interval)
        for index in range(result.n_restarts):
            report.init(index, [], -np.inf, None, 0.0)
        self._finish(weights, means, covariances, [], False)
        self.stuck_ = False

    def _best_init(self, result: SweepResult, previous: float) -> None:
        """Keep the init with the highest final lower bound, as scikit-learn does."""
        k = self.n_components
        n_iter = result.n_iter[0].copy()
        converged = result.converged[0].copy()
        bounds = [
            list(map(float, result.log_likelihood[0, r, : n_iter[r]])) for r in range(len(n_iter))
        ]
        final = result.final[0, :, :k]
        weights, means, covariances = final.weights, final.means, final.covariances
        self._check_well_defined(covariances, weights, means)
        if np.isfinite(previous) and abs(bounds[0][0] - previous) < self.tol:
            # A warm start converges at its first iteration when the lower bound stays put.
            n_iter[0], converged[0], bounds[0] = 1, True, bounds[0][:1]
            first = result.snapshots[0, :, 1, :k]
            weights, means, covariances = first.weights, first.means, first.covariances
            self._check_well_defined(covariances, weights, means)
        report = support.VerboseReport(self.verbose, self.verbose_interval)
        seconds = result.run_seconds / len(bounds)
        for index, trace in enumerate(bounds):
            report.init(index, trace, previous, bool(converged[index]), seconds)
        finals = np.array([trace[-1] for trace in bounds])
        best = int(np.argmax(np.where(np.isnan(finals), -np.inf, finals)))
        self._finish(weights[best], means[best], covariances[best], bounds[best], converged[best])
        self.stuck_ = bool(result.stuck[0, best])

    def _check_well_defined(self, covariances: np.ndarray, *arrays: np.ndarray) -> None:
        try:
            support.check_well_defined(covariances, *arrays)
        except ValueError as error:
            if self.dtype == "float32":
                raise ValueError(
                    f"{error} The numerical accuracy can also be improved by passing "
                    "dtype='float64'."
                ) from None
            raise

    def _finish(
        self,
        weights: np.ndarray,
        means: np.ndarray,
        covariances: np.ndarray,
        bounds: list[float],
        converged: bool,
    ) -> None:
        """Set the fitted attributes from (K,), (K, D) and (K, D, D) parameters."""
        self.weights_ = np.array(weights, np.float64)
        self.means_ = np.array(means, np.float64)
        self._full_covariances = np.array(covariances, np.float64)
        kind = covariance_kind(self.covariance_type)
        self.covariances_ = kind.to_sklearn(self._full_covariances)
        self.precisions_cholesky_ = kind.precisions_cholesky(self._full_covariances)
        self.precisions_ = kind.precisions_from_cholesky(self.precisions_cholesky_)
        self.converged_ = bool(converged)
        self.n_iter_ = len(bounds)
        self.lower_bounds_ = list(bounds)
        self.lower_bound_ = bounds[-1] if bounds else -np.inf

    def _log_resp(self, X: object) -> tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self)
        data = self._validated(X, reset=False)
        return log_responsibilities(data, self.weights_, self.means_, self._full_covariances)

    def _labels(self, data: np.ndarray) -> np.ndarray:
        """Most probable component of validated points (n_samples, D), (n_samples,)."""
        log_resp, _ = log_responsibilities(data, self.weights_, self.means_, self._full_covariances)
        return np.argmax(log_resp, axis=1)

    def score_samples(self, X: object) -> np.ndarray:
        """Log-likelihood of each point, (n_samples,)."""
        return self._log_resp(X)[1]

    def score(self, X: object, y: object = None) -> float:
        """Mean log-likelihood per point."""
        return float(np.mean(self.score_samples(X)))

    def predict_proba(self, X: object) -> np.ndarray:
        """Posterior probability of each component, (n_samples, n_components)."""
        return np.exp(self._log_resp(X)[0])

    def predict(self, X: object) -> np.ndarray:
        """Most probable component of each point, (n_samples,)."""
        return np.argmax(self._log_resp(X)[0], axis=1)

    def _n_parameters(self) -> int:
        """Free parameters of the fitted model, as scikit-learn counts them."""
        n_components, n_features = self.means_.shape
        return n_parameters(n_components, n_features, self.covariance_type)

    def bic(self, X: object) -> float:
        """Bayesian information criterion on X (n_samples, n_features); lower is better."""
        n_samples = len(self.score_samples(X))
        total = self.score(X) * n_samples
        return float(-2 * total + self._n_parameters() * np.log(n_samples))

    def aic(self, X: object) -> float:
        """Akaike information criterion on X (n_samples, n_features); lower is better."""
        n_samples = len(self.score_samples(X))
        return float(-2 * self.score(X) * n_samples + 2 * self._n_parameters())

    def sample(self, n_samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Draw points as scikit-learn does: X (n_samples, D) and labels (n_samples,).

        The generator is ``check_random_state(random_state)`` (a ``Generator`` is used
        as given), so an int ``random_state`` draws scikit-learn's points.
        """
        check_is_fitted(self)
        if n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples} . The sampling requires at "
                "least one sample."
            )
        rng = self.random_state
        if not isinstance(rng, np.random.Generator):
            rng = check_random_state(rng)
        counts = rng.multinomial(n_samples, self.weights_)
        if not covariance_kind(self.covariance_type).diagonal:
            covariances = self._full_covariances
            X = np.vstack(
                [
                    rng.multivariate_normal(mean, covariance, int(count))
                    for mean, covariance, count in zip(
                        self.means_, covariances, counts, strict=True
                    )
                ]
            )
        else:
            n_features = self.means_.shape[1]
            X = np.vstack(
                [
                    mean + rng.standard_normal(size=(count, n_features)) * np.sqrt(covariance)
                    for mean, covariance, count in zip(
                        self.means_, self.covariances_, counts, strict=True
                    )
                ]
            )
        labels = np.concatenate(
            [np.full(int(count), i, np.int64) for i, count in enumerate(counts)]
        )
        return X.astype(np.float64), labels


__all__ = ["EXPECTED_FAILED_CHECKS", "ConvergenceWarning", "GaussianMixture"]
