"""A fitted scikit-learn scaler as the harness's own (harness.quant.scalers), the same numbers.

scikit-learn's MinMaxScaler, RobustScaler and StandardScaler map onto the harness's ``minmax``,
``robust`` and ``zscore`` with their fitted values copied, so the fold the device runs is the
team's own scaler. scikit-learn never clips (except MinMaxScaler(clip=True), refused here): a
team that clips after scaling gives ``clip=(lo, hi)``. tests/bundle checks ``transform`` against
scikit-learn's on the same samples.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from harness.errors import BundleError


def _array(estimator, name: str, channels: int | None, path: str) -> np.ndarray:
    value = getattr(estimator, name, None)
    if value is None:
        raise BundleError(f"the {type(estimator).__name__} has no {name}: is it fitted?", path, "scaler")
    array = np.asarray(value, dtype=np.float64).reshape(-1)
    if channels is not None and array.shape != (channels,):
        raise BundleError(f"{name} has {array.size} values, expected {channels}", path, "scaler")
    return array


def from_sklearn(estimator, clip: tuple[float, float] | None = None, path: str = "<scaler>"):
    """The harness scaler equal to the fitted scikit-learn ``estimator`` (then an optional clip)."""
    from harness.quant.scalers import make_scaler
    kind = type(estimator).__name__
    channels = getattr(estimator, "n_features_in_", None)
    clip_params = {"clip": "clip", "clip_lo": float(clip[0]), "clip_hi": float(clip[1])} if clip else {"clip": "none"}
    if kind == "MinMaxScaler":
        if tuple(estimator.feature_range) != (0, 1):
            raise BundleError(f"MinMaxScaler(feature_range={estimator.feature_range}) is not supported: the "
                              "harness's min-max maps the calibration range onto [0, 1]", path, "scaler")
        if getattr(estimator, "clip", False) or clip:
            raise BundleError("a clipped MinMaxScaler is not supported (clip the range with a robust scaler)",
                              path, "scaler")
        scaler = make_scaler("minmax")
        fitted = {"data_min_g": _array(estimator, "data_min_", channels, path),
                  "data_max_g": _array(estimator, "data_max_", channels, path)}
    elif kind in ("RobustScaler", "StandardScaler"):
        scale = _array(estimator, "scale_", channels, path) if getattr(estimator, "with_scaling" if kind == "RobustScaler"
                                                                        else "with_std", True) else None
        center_name = "center_" if kind == "RobustScaler" else "mean_"
        centering = getattr(estimator, "with_centering" if kind == "RobustScaler" else "with_mean", True)
        center = _array(estimator, center_name, channels, path) if centering else None
        n = len(scale if scale is not None else center) if (scale is not None or center is not None) else channels
        if n is None:
            raise BundleError(f"the {kind} scales nothing (no centering, no scaling)", path, "scaler")
        if kind == "RobustScaler":
            lo, hi = estimator.quantile_range
            scaler = make_scaler("robust", quantile_lo=float(lo), quantile_hi=float(hi), **clip_params)
        else:
            scaler = make_scaler("zscore", **clip_params)
        fitted = {"center_g": center if center is not None else np.zeros(n),
                  "width_g": scale if scale is not None else np.ones(n)}
    else:
        raise BundleError(f"{kind} is not a supported scikit-learn scaler (MinMaxScaler, RobustScaler, "
                          "StandardScaler); export the harness's own scaler instead", path, "scaler")
    widths = fitted.get("width_g", fitted.get("data_max_g", np.ones(1)) - fitted.get("data_min_g", np.zeros(1)))
    if not (np.isfinite(widths).all() and (widths > 0).all()):
        raise BundleError(f"the {kind} has a zero or non-finite range on some channel: {widths}", path, "scaler")
    scaler.input_channels = len(next(iter(fitted.values())))
    scaler.fitted = fitted
    return scaler


def load_sklearn_pickle(path: str | Path, clip=None):
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            estimator = pickle.load(handle)   # the team's own file: as trusted as its model
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ModuleNotFoundError) as e:
        raise BundleError(f"cannot read a pickled scikit-learn scaler: {e}", str(path), "scaler") from e
    return from_sklearn(estimator, clip, str(path))
