"""GaussianMixture inside scikit-learn: its estimator checks, pipelines, searches, messages."""

from __future__ import annotations

import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn.exceptions
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import gmm_core
from gmm_core import GaussianMixture
from gmm_core.estimator import EXPECTED_FAILED_CHECKS

rng = np.random.default_rng(0)
X = np.concatenate([rng.normal(size=(60, 2)), rng.normal(size=(60, 2)) * 0.5 + [5.0, 5.0]])


@parametrize_with_checks(
    [GaussianMixture()], expected_failed_checks=lambda _: EXPECTED_FAILED_CHECKS
)
def test_sklearn_estimator_checks(estimator: GaussianMixture, check: object) -> None:
    check(estimator)


def test_pipeline_runs_every_method() -> None:
    pipeline = make_pipeline(StandardScaler(), GaussianMixture(2, random_state=0)).fit(X)
    labels = pipeline.predict(X)
    assert labels.shape == (len(X),) and set(labels) == {0, 1}
    proba = pipeline.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(labels, proba.argmax(axis=1))
    assert pipeline.score(X) == pytest.approx(pipeline.score_samples(X).mean())


def test_grid_search_picks_the_number_of_components() -> None:
    search = GridSearchCV(GaussianMixture(random_state=0), {"n_components": [1, 2, 3]}).fit(X)
    assert search.best_params_["n_components"] in (2, 3)
    assert search.best_estimator_.n_features_in_ == 2
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_clone_copies_parameters_and_drops_the_fit() -> None:
    model = GaussianMixture(2, covariance_type="full", warm_start=True, random_state=0).fit(X)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "weights_")
    copy.set_params(n_components=3)
    assert copy.n_components == 3 and model.n_components == 2


def test_pickle_round_trip_keeps_the_fit() -> None:
    model = GaussianMixture(2, random_state=0).fit(X)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    assert restored.get_params() == model.get_params()
    assert restored.lower_bounds_ == model.lower_bounds_


def test_feature_names_are_kept() -> None:
    frame = pd.DataFrame(X, columns=["height", "weight"])
    model = GaussianMixture(2, random_state=0).fit(frame)
    np.testing.assert_array_equal(model.feature_names_in_, ["height", "weight"])
    with pytest.warns(UserWarning, match="feature names"):
        model.predict(X)


@pytest.mark.parametrize(
    ("parameter", "value", "shape"),
    [
        ("weights_init", np.full((2, 1), 0.5), "(2,)"),
        ("means_init", np.zeros((3, 2)), "(2, 2)"),
        ("precisions_init", np.ones((3, 2, 2)), "(2, 2, 2)"),
    ],
)
def test_wrong_start_shapes_name_the_parameter_and_shape(
    parameter: str, value: np.ndarray, shape: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(shape)) as raised:
        GaussianMixture(2, **{parameter: value}).fit(X)
    assert parameter in str(raised.value) and "should have the shape of" in str(raised.value)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score", "score_samples", "bic"])
def test_unfitted_use_raises_not_fitted_error(method: str) -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        getattr(GaussianMixture(2), method)(X)
    with pytest.raises(NotFittedError):
        GaussianMixture(2).sample(3)


def test_collapsed_component_without_reg_covar_advises_to_increase_it() -> None:
    duplicates = np.repeat(rng.normal(size=(3, 2)), 20, axis=0)
    with pytest.raises(ValueError, match="increase reg_covar"):
        SklearnGaussianMixture(3, reg_covar=0.0, random_state=0).fit(duplicates)
    with pytest.raises(ValueError, match="ill-defined empirical covariance.*increase reg_covar"):
        GaussianMixture(3, reg_covar=0.0, random_state=0).fit(duplicates)
    assert np.all(np.isfinite(GaussianMixture(3, random_state=0).fit(duplicates).means_))


def test_convergence_warning_is_sklearns() -> None:
    assert gmm_core.ConvergenceWarning is sklearn.exceptions.ConvergenceWarning
    with pytest.warns(sklearn.exceptions.ConvergenceWarning, match="did not converge"):
        GaussianMixture(2, tol=0.0, random_state=0).fit(X)


def test_bad_settings_raise_sklearns_parameter_error() -> None:
    for settings in ({"n_components": 0}, {"max_iter": -1}, {"dtype": "float16"}):
        with pytest.raises(ValueError, match=f"'{next(iter(settings))}' parameter"):
            GaussianMixture(**settings).fit(X)
    with pytest.raises(ValueError, match="Expected n_samples >= n_components"):
        GaussianMixture(5).fit(X[:3])


def test_random_state_kinds() -> None:
    fitted = {
        "int": GaussianMixture(2, random_state=7).fit(X).means_,
        "int again": GaussianMixture(2, random_state=7).fit(X).means_,
        "RandomState": GaussianMixture(2, random_state=np.random.RandomState(0)).fit(X).means_,
        "Generator": GaussianMixture(2, random_state=np.random.default_rng(0)).fit(X).means_,
    }
    np.testing.assert_array_equal(fitted["int"], fitted["int again"])
    assert all(np.all(np.isfinite(means)) for means in fitted.values())
    generator = np.random.default_rng(1)
    model = GaussianMixture(2, random_state=generator).fit(X)
    first, second = model.sample(5)[0], model.sample(5)[0]
    assert not np.array_equal(first, second)  # the Generator advances, as a RandomState does
    np.random.seed(3)  # noqa: NPY002 - random_state=None draws from the global RandomState
    one = GaussianMixture(2).fit(X).sample(5)[0]
    np.random.seed(3)  # noqa: NPY002 - random_state=None draws from the global RandomState
    np.testing.assert_array_equal(one, GaussianMixture(2).fit(X).sample(5)[0])


def test_verbose_prints_what_sklearn_prints(capsys: pytest.CaptureFixture[str]) -> None:
    starts = {"weights_init": [0.5, 0.5], "means_init": X[[0, -1]] + 1.0}
    settings = dict(verbose=1, verbose_interval=2, max_iter=7, tol=0.0, **starts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        SklearnGaussianMixture(2, **settings).fit(X)
        theirs = capsys.readouterr().out
        GaussianMixture(2, dtype="float64", **settings).fit(X)
        ours = capsys.readouterr().out
        GaussianMixture(2, dtype="float64", **(settings | {"verbose": 2})).fit(X)
        detailed = capsys.readouterr().out
    assert ours == theirs
    assert "  Iteration 2\t time lapse" in detailed and "ll change" in detailed
    assert re.search(r"Initialization did not converge\. time lapse .*lower bound -?\d", detailed)
