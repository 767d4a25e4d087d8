"""Affine kinds with a clip policy: robust (median / IQR, clipped at +-4 IQR by default) and
z-score (mean / std, unclipped by default), both as scikit-learn's twins before the clip."""

from __future__ import annotations

import numpy as np

from harness.errors import ScalerError
from harness.quant.scalers.base import AffineForm, Scaler, unbounded
from harness.quant.scalers.registry import register_scaler


class _ClippedAffine(Scaler):
    """(x - center) / width, then an explicit clip policy: 'none' or clip to [clip_lo, clip_hi]."""

    affine = True
    fitted_keys = ("center_g", "width_g")
    clip_policies = ("none", "clip")

    def _check_params(self):
        clip = self.params["clip"]
        if clip not in self.clip_policies:
            raise ScalerError(f"scaler '{self.name}': clip policy must be one of "
                              f"{', '.join(self.clip_policies)}, got {clip!r}")
        if clip != "none":
            lo, hi = self.params["clip_lo"], self.params["clip_hi"]
            if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
                raise ScalerError(f"scaler '{self.name}': need finite clip_lo < clip_hi, got "
                                  f"[{lo}, {hi}]")

    def _transform(self, matrix):
        f = self.fitted
        y = (matrix - f["center_g"]) / f["width_g"]
        if self.params["clip"] != "none":
            y = np.clip(y, self.params["clip_lo"], self.params["clip_hi"])
        return y

    def _affine_form(self):
        f = self.fitted
        channels = self.input_channels
        if self.params["clip"] == "none":
            lo, hi = unbounded(channels)
        else:
            lo = np.full(channels, float(self.params["clip_lo"]))
            hi = np.full(channels, float(self.params["clip_hi"]))
        return AffineForm(1.0 / f["width_g"], -f["center_g"] / f["width_g"], lo, hi, self.source_axis)


@register_scaler
class RobustScaler(_ClippedAffine):
    """(x - median) / IQR per channel, as scikit-learn's RobustScaler, plus a clip policy.

    Default: clip to [-4, 4] IQR around the median, which keeps a shock from setting the INT8
    range while leaving the normal band's peaks (up to ~3 IQR for a vibration whose level wanders
    over the band) unclipped. ``clip="none"`` is scikit-learn's behaviour (and collapses like
    min-max); a tight clip such as [-1, 1] saturates the band instead.
    """

    name = "robust"
    defaults = {"quantile_lo": 25.0, "quantile_hi": 75.0,
                "clip": "clip", "clip_lo": -4.0, "clip_hi": 4.0}

    def _check_params(self):
        super()._check_params()
        lo, hi = self.params["quantile_lo"], self.params["quantile_hi"]
        if not (0.0 <= lo < hi <= 100.0):
            raise ScalerError(f"scaler 'robust': need 0 <= quantile_lo < quantile_hi <= 100, "
                              f"got {lo}, {hi}")

    def _fit(self, matrix):
        q_lo, median, q_hi = np.percentile(
            matrix, [self.params["quantile_lo"], 50.0, self.params["quantile_hi"]], axis=0)
        self._nonzero_width(q_hi - q_lo, "interquantile range", median)
        return {"center_g": median, "width_g": q_hi - q_lo}


@register_scaler
class ZScoreScaler(_ClippedAffine):
    """(x - mean) / std per channel (population std), as scikit-learn's StandardScaler."""

    name = "zscore"
    defaults = {"clip": "none", "clip_lo": -4.0, "clip_hi": 4.0}

    def _fit(self, matrix):
        mean = matrix.mean(axis=0)
        std = matrix.std(axis=0)
        self._nonzero_width(std, "standard deviation", mean)
        return {"center_g": mean, "width_g": std}
