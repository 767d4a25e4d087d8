"""The plain affine kinds: min-max and two-stage (a fine and a coarse channel per axis)."""

from __future__ import annotations

import numpy as np

from harness.errors import ScalerError
from harness.quant.scalers.base import AffineForm, Scaler, unbounded
from harness.quant.scalers.registry import register_scaler


@register_scaler
class MinMaxScaler(Scaler):
    """(x - min) / (max - min) per channel: the calibration set maps onto [0, 1]."""

    name = "minmax"
    affine = True
    fitted_keys = ("data_min_g", "data_max_g")

    def _fit(self, matrix):
        data_min = matrix.min(axis=0)
        data_max = matrix.max(axis=0)
        self._nonzero_width(data_max - data_min, "range (max - min)", data_min)
        return {"data_min_g": data_min, "data_max_g": data_max}

    def _transform(self, matrix):
        # The textbook form, so results match (x - min) / range to the last bit.
        f = self.fitted
        return (matrix - f["data_min_g"]) / (f["data_max_g"] - f["data_min_g"])

    def _affine_form(self):
        f = self.fitted
        width = f["data_max_g"] - f["data_min_g"]
        lo, hi = unbounded(self.input_channels)
        return AffineForm(1.0 / width, -f["data_min_g"] / width, lo, hi, self.source_axis)


@register_scaler
class TwoStageScaler(Scaler):
    """Fine channel for the normal band plus coarse channel for impacts (3 -> 6 channels).

    fine   = clip((x - median) / fine_halfwidth_g, -1, 1); the half-width is fitted as the
             ``fine_quantile`` percentile of |x - median| unless given (shocks are rare, so they do
             not move it);
    coarse = clip(x / full_scale_g, -1, 1), full_scale_g being the sensor's range.
    """

    name = "two_stage"
    affine = True
    defaults = {"fine_halfwidth_g": None, "fine_quantile": 99.9, "full_scale_g": 16.0}
    fitted_keys = ("center_g", "fine_halfwidth_g", "full_scale_g")

    def _check_params(self):
        p = self.params
        if p["fine_halfwidth_g"] is not None and not (np.isfinite(p["fine_halfwidth_g"])
                                                       and p["fine_halfwidth_g"] > 0):
            raise ScalerError(f"scaler 'two_stage': fine_halfwidth_g must be > 0, got {p['fine_halfwidth_g']}")
        if not (0.0 < p["fine_quantile"] <= 100.0):
            raise ScalerError(f"scaler 'two_stage': fine_quantile must be in (0, 100], got {p['fine_quantile']}")
        if p["full_scale_g"] is None or not (np.isfinite(p["full_scale_g"]) and p["full_scale_g"] > 0):
            raise ScalerError(f"scaler 'two_stage': full_scale_g must be > 0, got {p['full_scale_g']}")

    def _channel_factor(self):
        return 2

    def _fit(self, matrix):
        center = np.median(matrix, axis=0)
        if self.params["fine_halfwidth_g"] is not None:
            halfwidth = np.full(matrix.shape[1], float(self.params["fine_halfwidth_g"]))
        else:
            halfwidth = np.percentile(np.abs(matrix - center), self.params["fine_quantile"], axis=0)
            self._nonzero_width(halfwidth, "spread around the median", center)
        full_scale = np.full(matrix.shape[1], float(self.params["full_scale_g"]))
        return {"center_g": center, "fine_halfwidth_g": halfwidth, "full_scale_g": full_scale}

    def _affine_form(self):
        f = self.fitted
        channels = self.input_channels
        gain = np.concatenate([1.0 / f["fine_halfwidth_g"], 1.0 / f["full_scale_g"]])
        offset = np.concatenate([-f["center_g"] / f["fine_halfwidth_g"], np.zeros(channels)])
        return AffineForm(gain, offset, np.full(2 * channels, -1.0), np.full(2 * channels, 1.0),
                          self.source_axis)

    def _transform(self, matrix):
        f = self.fitted
        fine = np.clip((matrix - f["center_g"]) / f["fine_halfwidth_g"], -1.0, 1.0)
        coarse = np.clip(matrix / f["full_scale_g"], -1.0, 1.0)
        return np.concatenate([fine, coarse], axis=1)

    def _inverse(self, matrix, saturated):
        f = self.fitted
        channels = self.input_channels
        fine, coarse = matrix[:, :channels], matrix[:, channels:]
        if saturated is None:
            fine_clipped = np.abs(fine) >= 1.0
        else:
            fine_clipped = saturated[:, :channels]
        from_fine = f["center_g"] + fine * f["fine_halfwidth_g"]
        from_coarse = coarse * f["full_scale_g"]
        return np.where(fine_clipped, from_coarse, from_fine)
