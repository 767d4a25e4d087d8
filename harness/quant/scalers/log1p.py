"""The one kind that is not affine: a sign-preserving log1p (folded as a threshold table)."""

from __future__ import annotations

import numpy as np

from harness.errors import ScalerError
from harness.quant.scalers.base import Scaler
from harness.quant.scalers.registry import register_scaler


@register_scaler
class Log1pScaler(Scaler):
    """sign(x - c) * log1p(|x - c| / knee_g): linear below the knee, logarithmic above; odd
    around c, so signed acceleration keeps its sign. c is the per-axis calibration median
    (``center="median"``, default: removes gravity and bias, which a log would otherwise squash
    the z axis around) or 0 (``center="none"``, the plain sign-preserving log1p). Not affine; the
    firmware uses a threshold table (see fold)."""

    name = "log1p"
    affine = False
    defaults = {"knee_g": 0.2, "center": "median"}
    fitted_keys = ("center_g", "knee_g")

    def _check_params(self):
        knee = self.params["knee_g"]
        if knee is None or not np.isfinite(knee) or knee <= 0:
            raise ScalerError(f"scaler 'log1p': knee_g must be finite and > 0, got {knee}")
        if self.params["center"] not in ("median", "none"):
            raise ScalerError(f"scaler 'log1p': center must be 'median' or 'none', "
                              f"got {self.params['center']!r}")

    def _fit(self, matrix):
        center = (np.median(matrix, axis=0) if self.params["center"] == "median"
                  else np.zeros(matrix.shape[1]))
        return {"center_g": center, "knee_g": np.full(matrix.shape[1], float(self.params["knee_g"]))}

    def _transform(self, matrix):
        centred = matrix - self.fitted["center_g"]
        return np.sign(centred) * np.log1p(np.abs(centred) / self.fitted["knee_g"])

    def _g_per_unit(self, matrix):
        return self.fitted["knee_g"] + np.abs(matrix - self.fitted["center_g"])

    def _inverse(self, matrix, saturated):
        return self.fitted["center_g"] + np.sign(matrix) * self.fitted["knee_g"] * np.expm1(np.abs(matrix))
