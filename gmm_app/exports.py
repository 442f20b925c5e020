"""What the download buttons hand out: fitted parameters and settings as JSON, data as CSV.

Pure: no Streamlit. Must not import the fit flow, the widgets or the views.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

import gmm_core
from gmm_app.summaries import FitView
from gmm_app.upload import to_csv_bytes

# --------------------------------------------------------------------------- exports


def _plain(value: Any) -> Any:
    """JSON-ready copy: arrays to lists, non-finite floats to None."""
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def fit_json(
    result: gmm_core.SweepResult,
    fit: FitView,
    *,
    settings: Mapping[str, Any],
    columns: Sequence[str] | None = None,
) -> str:
    """Fitted parameters as JSON: the shown fit, the best restart of every K, the settings."""
    best = result.best_restart()
    per_k = []
    for row, k in enumerate(result.k_values.tolist()):
        column = int(best[row])
        per_k.append(
            {
                "k": k,
                "best_restart": column,
                "bic": result.bic[row, column],
                "aic": result.aic[row, column],
                "final_mean_log_likelihood": result.final_log_likelihood[row, column],
                **result.mixture(k, column).as_dict(),
            }
        )
    document = {
        "settings": settings,
        "columns": list(columns) if columns is not None else None,
        "n_samples": result.n_samples,
        "n_features": result.n_features,
        "covariance_type": result.settings.covariance_type,
        "init_method": result.settings.init_params,
        "k_chosen_by_bic": result.best_k("bic", warn=False),
        "shown_fit": {
            "k": fit.k,
            "restart": fit.restart,
            **fit.mixture.as_dict(),
            "final_mean_log_likelihood": fit.final_log_likelihood,
            "n_iter": fit.n_iter,
            "converged": fit.converged,
        },
        "best_fit_per_k": per_k,
    }
    return json.dumps(_plain(document), indent=2, allow_nan=False)


def dataset_csv(points: np.ndarray, labels: np.ndarray | None = None) -> bytes:
    """The data set as CSV bytes (columns x, y and, for synthetic data, the true label)."""
    frame = pd.DataFrame(points, columns=["x", "y"][: points.shape[1]])
    if labels is not None:
        frame["true_cluster"] = labels
    return to_csv_bytes(frame)


def settings_json(
    settings: Mapping[str, Any], query_params: Mapping[str, Sequence[str]], link: str
) -> str:
    """The settings as JSON, with the query parameters and the link that reproduce the view."""
    document = {
        "settings": settings,
        "query_params": {key: list(values) for key, values in query_params.items()},
        "link": link,
    }
    return json.dumps(_plain(document), indent=2, allow_nan=False)
