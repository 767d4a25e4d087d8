"""Scalers fitted on a calibration set, from acceleration in g to the model's float input.

Registry, not an if-chain: ``make_scaler(name, **params)`` builds any registered kind;
``from_export(d)`` rebuilds a fitted scaler from its exported dict.

Shapes. ``fit`` takes a calibration set of shape (n,), (n, channels) or
(n_windows, window_len, channels); channels is the last axis (3 for ax, ay, az). ``transform``
keeps every leading axis and maps the last axis from ``input_channels`` to ``output_channels``
(equal, except ``two_stage``, which doubles it: 3 -> 6). Values are float64.

Kinds (per input channel c, x in g):

==========  ==============================================================  ======  =========
kind        output                                                          affine  clip
==========  ==============================================================  ======  =========
minmax      (x - min_c) / (max_c - min_c)                                   yes     none
robust      (x - median_c) / IQR_c, then clip to [clip_lo, clip_hi]         yes     "iqr"/none
zscore      (x - mean_c) / std_c (population std, as scikit-learn)          yes     optional
log1p       sign(x - c) * log1p(|x - c| / knee_g), c = median_c or 0        no      none
two_stage   fine_c   = clip((x - median_c) / fine_halfwidth_c, -1, 1)       yes     fine only
            coarse_c = clip(x / full_scale_g, -1, 1)
==========  ==============================================================  ======  =========

Why clip matters: every affine scaler followed by an INT8 input whose range is calibrated on the
scaled data (TFLite post-training quantization) produces the *same* codes as min-max; only the
range the quantizer sees changes the resolution. Robust scaling helps because its clip policy
keeps an 8 g shock from stretching that range, not because of the median/IQR themselves.

two_stage output channel order is [fine_0 .. fine_{C-1}, coarse_0 .. coarse_{C-1}]: a fine
channel that resolves the normal band and saturates on impacts, and a coarse channel that keeps
the impact amplitude up to the sensor's full scale. Both live in [-1, 1] so that one per-tensor
int8 scale (TFLite input tensors have one) serves all six channels.

Modules: ``base`` (the Scaler, its affine form and export), ``registry`` (kinds by name, export
and spec parsing), ``affine`` (minmax, two_stage), ``clipped`` (robust, zscore), ``log1p``. The
names the rest of the harness uses are imported here, and importing the package registers every
kind.
"""

from __future__ import annotations

from harness.quant.scalers.base import AXIS_NAMES, EXPORT_FORMAT, AffineForm, Scaler
from harness.quant.scalers.registry import (from_export, make_scaler, parse_scaler_spec, register_scaler,
                                            scaler_class, scaler_names)
from harness.quant.scalers.affine import MinMaxScaler, TwoStageScaler
from harness.quant.scalers.clipped import RobustScaler, ZScoreScaler
from harness.quant.scalers.log1p import Log1pScaler

__all__ = ["AXIS_NAMES", "EXPORT_FORMAT", "AffineForm", "Scaler", "from_export", "make_scaler",
           "parse_scaler_spec", "register_scaler", "scaler_class", "scaler_names", "MinMaxScaler",
           "TwoStageScaler", "RobustScaler", "ZScoreScaler", "Log1pScaler"]
