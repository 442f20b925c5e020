"""``GaussianMixture``: scikit-learn's estimator interface on top of the sweep.

The ``n_init`` restarts run in parallel as one sweep with ``k_min == k_max``; the
restart with the highest final log-likelihood wins.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.linalg

from gmm_core import _validation as check
from gmm_core.density import log_responsibilities
from gmm_core.select import aic as aic_score
from gmm_core.select import bic as bic_score
from gmm_core.sweep import sweep


class ConvergenceWarning(UserWarning):
    """EM stopped at ``max_iter`` before the log-likelihood settled within ``tol``."""


def _seed_from(random_state: object) -> int:
    if random_state is None:
        return int(np.random.default_rng().integers(2**31 - 1))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be non-negative; got {random_state}.")
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    raise ValueError(
        f"random_state must be None, an int or a NumPy generator; got {random_state!r}."
    )


def _covariances_in_sklearn_shape(full: np.ndarray, covariance_type: str) -> np.ndarray:
    """(K, D, D) matrices -> scikit-learn's shape for the covariance type."""
    if covariance_type == "full":
        return full
    if covariance_type == "tied":
        return full[0]
    diagonal = np.diagonal(full, axis1=-2, axis2=-1)
    return diagonal if covariance_type == "diag" else diagonal[:, 0]


def _precision_cholesky(full: np.ndarray, covariance_type: str) -> np.ndarray:
    """scikit-learn's ``precisions_cholesky_`` from (K, D, D) covariances."""
    if covariance_type in ("diag", "spherical"):
        return 1.0 / np.sqrt(_covariances_in_sklearn_shape(full, covariance_type))
    factors = []
    for covariance in full[:1] if covariance_type == "tied" else full:
        lower = scipy.linalg.cholesky(covariance, lower=True)
        identity = np.eye(covariance.shape[0])
        factors.append(scipy.linalg.solve_triangular(lower, identity, lower=True).T)
    return factors[0] if covariance_type == "tied" else np.stack(factors)


class GaussianMixture:
    """Gaussian mixture fitted by EM, with scikit-learn's names, defaults and meanings.

    Parameters
    ----------
    n_components, covariance_type, tol, reg_covar, max_iter, n_init, init_params,
    weights_init, means_init, precisions_init, random_state
        As in ``sklearn.mixture.GaussianMixture``. ``init_params`` also accepts
        ``"standard_normal"``.
    dtype : "float32" (default, fast) or "float64" for the E step.

    Attributes
    ----------
    weights_ : (K,); means_ : (K, D); covariances_ and precisions_cholesky_ : shaped
    by covariance type as in scikit-learn; converged_, n_iter_, lower_bound_,
    n_features_in_.
    """

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        weights_init: object = None,
        means_init: object = None,
        precisions_init: object = None,
        random_state: object = None,
        dtype: str = "float32",
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
        self.dtype = dtype

    def fit(self, X: object, y: object = None) -> GaussianMixture:
        """Fit the mixture to X (n_samples, n_features); returns self."""
        data = check.as_data_matrix(X)
        n_components = check.check_positive_int(self.n_components, "n_components")
        result = sweep(
            data,
            n_components,
            n_components,
            check.check_positive_int(self.n_init, "n_init"),
            seed=_seed_from(self.random_state),
            init_params=self.init_params,
            covariance_type=self.covariance_type,
            max_iter=self.max_iter,
            tol=self.tol,
            reg_covar=self.reg_covar,
            dtype=self.dtype,
            weights_init=self.weights_init,
            means_init=self.means_init,
            precisions_init=self.precisions_init,
        )
        best = int(result.best_restart()[0])
        fitted = result.mixture(n_components, best)
        self.weights_ = fitted.weights
        self.means_ = fitted.means
        self._full_covariances = fitted.covariances
        self.covariances_ = _covariances_in_sklearn_shape(fitted.covariances, self.covariance_type)
        self.precisions_cholesky_ = _precision_cholesky(fitted.covariances, self.covariance_type)
        self.n_iter_ = int(result.n_iter[0, best])
        self.converged_ = bool(result.converged[0, best])
        self.lower_bound_ = float(result.log_likelihood[0, best, self.n_iter_ - 1])
        self.n_features_in_ = data.shape[1]
        self.sweep_result_ = result
        if not self.converged_:
            warnings.warn(
                f"EM did not converge within max_iter={self.max_iter} iterations; "
                "raise max_iter or tol, or check the data.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def fit_predict(self, X: object, y: object = None) -> np.ndarray:
        """Fit, then return the most probable component of each point, (n_samples,)."""
        return self.fit(X).predict(X)

    @property
    def precisions_(self) -> np.ndarray:
        """Inverse covariances, shaped like ``covariances_``."""
        self._check_fitted()
        if self.covariance_type in ("diag", "spherical"):
            return 1.0 / self.covariances_
        return np.linalg.inv(self.covariances_)

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise ValueError("This GaussianMixture is not fitted yet; call fit(X) first.")

    def _checked(self, X: object) -> np.ndarray:
        self._check_fitted()
        data = check.as_data_matrix(X)
        if data.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {data.shape[1]} features, but the model was fitted with "
                f"{self.n_features_in_}."
            )
        return data

    def _log_resp(self, X: object) -> tuple[np.ndarray, np.ndarray]:
        data = self._checked(X)
        return log_responsibilities(data, self.weights_, self.means_, self._full_covariances)

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

    def bic(self, X: object) -> float:
        """Bayesian information criterion on X (lower is better)."""
        data = self._checked(X)
        total = self.score(data) * data.shape[0]
        return float(
            bic_score(total, len(self.weights_), data.shape[1], data.shape[0], self.covariance_type)
        )

    def aic(self, X: object) -> float:
        """Akaike information criterion on X (lower is better)."""
        data = self._checked(X)
        total = self.score(data) * data.shape[0]
        return float(
            aic_score(total, len(self.weights_), data.shape[1], data.shape[0], self.covariance_type)
        )

    def sample(self, n_samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Draw points from the fitted mixture: X (n_samples, D) and labels (n_samples,)."""
        self._check_fitted()
        n_samples = check.check_positive_int(n_samples, "n_samples")
        rng = np.random.default_rng(_seed_from(self.random_state))
        counts = rng.multinomial(n_samples, self.weights_ / self.weights_.sum())
        points = [
            rng.multivariate_normal(mean, covariance, size=count, method="cholesky")
            for mean, covariance, count in zip(
                self.means_, self._full_covariances, counts, strict=True
            )
        ]
        labels = np.repeat(np.arange(len(counts)), counts)
        return np.concatenate(points), labels


__all__ = ["ConvergenceWarning", "GaussianMixture"]
