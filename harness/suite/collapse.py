"""Collapse measured on the device's own input codes.

harness.quant.metrics.band_metrics quantizes a trace on the host; here the codes are the ones the
device fed its model (INFER_WINDOW replies), so the figures describe what ran. The definitions are
band_metrics' own (band membership by |g| per axis, distinct codes and log2 of them, g per code,
SQNR of the reconstruction, saturation by the scaler's clip or the int8 rails); given the host's
codes, ``codes_band_metrics`` returns band_metrics' result exactly (tests/suite check it).
"""

from __future__ import annotations

import math

import numpy as np

from harness.errors import TraceError
from harness.quant.metrics import AxisMetrics, Band, ScalerMetrics, _channel_g_span, _distinct_rows
from harness.quant.scalers import AXIS_NAMES
from harness.quant.tflite import QuantParams, dequantize


def saturation_mask(scaler, params: QuantParams, g: np.ndarray) -> np.ndarray:
    """(n, output_channels): the scaler clips, or the scaled value lies beyond an int8 rail."""
    ratio = scaler.transform(g) / float(np.float32(params.scale)) + params.zero_point
    return scaler.saturation_mask(g) | (ratio < params.qmin - 0.5) | (ratio > params.qmax + 0.5)


def codes_band_metrics(scaler, params: QuantParams, g, codes, band: Band, label: str | None = None
                       ) -> ScalerMetrics:
    """Band figures of samples ``g`` (n, axes) whose input codes were ``codes`` (n, channels)."""
    g = np.asarray(g, dtype=np.float64).reshape(-1, scaler.input_channels)
    codes = np.asarray(codes).reshape(len(g), scaler.output_channels)
    if len(g) == 0:
        raise TraceError("no samples to measure")
    saturated = saturation_mask(scaler, params, g)
    reconstructed = scaler.inverse(dequantize(codes, params), saturated=saturated)
    reconstructed = reconstructed if reconstructed.ndim == 2 else reconstructed[:, None]
    code_width_g = np.where(saturated, np.inf, float(np.float32(params.scale)) * scaler.g_per_unit(g))
    source = scaler.source_axis
    names = AXIS_NAMES if g.shape[1] == 3 else tuple(f"channel {i}" for i in range(g.shape[1]))
    per_axis = []
    axis_saturated = np.zeros(g.shape, dtype=bool)
    for axis in range(g.shape[1]):
        channels = np.flatnonzero(source == axis)
        axis_saturated[:, axis] = saturated[:, channels].any(axis=1)
        in_band = band.contains(g[:, axis])
        count = int(in_band.sum())
        range_g = min(_channel_g_span(scaler, params, int(c)) for c in channels)
        if count == 0:
            per_axis.append(AxisMetrics(names[axis], 0, 0, 0.0, math.nan, None, 0.0, range_g))
            continue
        used = _distinct_rows(codes[in_band][:, channels])
        widths = code_width_g[in_band][:, channels].min(axis=1)
        widths = widths[np.isfinite(widths)]
        values = g[in_band, axis]
        error = reconstructed[in_band, axis] - values
        signal_power = float(np.sum((values - values.mean()) ** 2))
        error_power = float(np.sum(error ** 2))
        sqnr = (None if signal_power == 0.0 else math.inf if error_power == 0.0
                else 10.0 * math.log10(signal_power / error_power))
        per_axis.append(AxisMetrics(
            axis=names[axis], band_samples=count, codes_used=used,
            effective_bits=math.log2(used) if used > 1 else 0.0,
            g_per_code=float(np.median(widths)) if widths.size else math.inf, sqnr_db=sqnr,
            saturation_rate=float(axis_saturated[in_band, axis].mean()), range_g=range_g))
    measured = [a for a in per_axis if a.band_samples > 0]
    if not measured:
        raise TraceError(f"no sample falls in the band {band}")
    worst = min(measured, key=lambda a: (a.codes_used, -a.saturation_rate))
    saturating = max(measured, key=lambda a: a.saturation_rate)
    return ScalerMetrics(
        scaler=label or scaler.name, band=band, input_params=params, levels=params.levels,
        band_samples=sum(a.band_samples for a in measured), codes_used=worst.codes_used,
        effective_bits=worst.effective_bits, g_per_code=worst.g_per_code, sqnr_db=worst.sqnr_db,
        saturation_rate=saturating.saturation_rate, saturation_axis=saturating.axis,
        trace_saturation_rate=float(axis_saturated.mean()), range_g=worst.range_g,
        range_ratio=worst.range_g / band.width_g, worst_axis=worst.axis, per_axis=per_axis)


def window_code_stats(codes: np.ndarray, params: QuantParams) -> dict[str, np.ndarray]:
    """Per window (codes (n, ..., channels)): fewest distinct codes on any channel, lowest and
    highest code, share of codes on an int8 rail."""
    n = codes.shape[0]
    flat = codes.reshape(n, -1, codes.shape[-1]).astype(np.int16)
    distinct = np.array([[len(np.unique(w[:, c])) for c in range(w.shape[1])] for w in flat])
    rails = (flat <= params.qmin) | (flat >= params.qmax)
    return {"codes_distinct_min": distinct.min(axis=1), "code_min": flat.min(axis=(1, 2)),
            "code_max": flat.max(axis=(1, 2)), "rail_share": rails.mean(axis=(1, 2))}
