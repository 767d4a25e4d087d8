"""Collapse metrics: how much of the INT8 input a band of interest (0.2-1.5 g) actually gets.
An int16 input (a 16x8 model: 65536 codes, zero point 0) is measured with the same definitions;
``calibrate(..., input_dtype="int16")`` chooses its parameters as the converter does.

Pipeline measured (the one the model sees): scaler fitted on a calibration set -> per-tensor INT8
input quantization calibrated on the scaled calibration set (min/max, as TFLite post-training
quantization does with a representative dataset) -> codes for the trace.

Definitions (per axis; the headline figures are those of the worst axis, the one with the fewest
codes in the band, except saturation_rate, which is the highest of any axis):

* band membership: a sample *value* belongs to the band when lo <= |value| <= hi on that axis.
  |value| because acceleration is signed: -0.8 g is as normal as +0.8 g.
* codes_used: distinct codes the band's samples produce. With several output channels per axis
  (two_stage: fine, coarse) a sample's code is the tuple, so distinct tuples are counted.
* effective_bits: log2(codes_used) (0 for 0 or 1 code).
* g_per_code: median over unsaturated band samples of the g width of the code they fall in
  (scale * dg/dy, the finest unsaturated channel); exact for affine scalers, local for log1p.
* sqnr_db: 10 log10(signal power / error power) in g over the band, the signal being the band
  samples minus their mean (gravity and bias carry no information), the error being the value
  reconstructed from the codes (dequantize, then the scaler's inverse) minus the true value.
  None when the band's signal power is 0 (a constant band); inf when there is no error.
* saturation_rate: fraction of band samples whose axis has a channel clipped, by the scaler's
  clip or by the int8 (int16) rails.
* range_g: g span the finest channel of the axis represents without saturating; range_ratio is
  range_g over the band width (hi - lo).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from harness.errors import ScalerError, TraceError
from harness.quant.scalers import AXIS_NAMES, Scaler, parse_scaler_spec
from harness.quant.tflite import QuantParams, choose_params_for, dequantize, quantize

DEFAULT_BAND_G = (0.2, 1.5)


@dataclass(frozen=True)
class Band:
    lo_g: float
    hi_g: float

    def __post_init__(self):
        if not (np.isfinite(self.lo_g) and np.isfinite(self.hi_g) and 0 <= self.lo_g < self.hi_g):
            raise TraceError(f"band must satisfy 0 <= lo < hi (in g), got {self.lo_g}:{self.hi_g}")

    @property
    def width_g(self) -> float:
        return self.hi_g - self.lo_g

    def contains(self, values: np.ndarray) -> np.ndarray:
        magnitude = np.abs(values)
        return (magnitude >= self.lo_g) & (magnitude <= self.hi_g)

    def __str__(self) -> str:
        return f"{self.lo_g:g}-{self.hi_g:g} g"

    @classmethod
    def parse(cls, text: str) -> "Band":
        """``"0.2:1.5"`` -> Band(0.2, 1.5)."""
        lo, sep, hi = text.partition(":")
        try:
            if not sep:
                raise ValueError
            return cls(float(lo), float(hi))
        except ValueError:
            raise TraceError(f"band must be LO:HI in g, e.g. 0.2:1.5, got '{text}'") from None


@dataclass(frozen=True)
class AxisMetrics:
    axis: str
    band_samples: int
    codes_used: int
    effective_bits: float
    g_per_code: float
    sqnr_db: float | None
    saturation_rate: float
    range_g: float


@dataclass(frozen=True)
class ScalerMetrics:
    """Figures for one scaler on one trace and band: the headline figures are the worst axis's
    (``worst_axis``: the fewest codes), the band samples pooled over the axes, the saturation the
    most saturating axis's; ``per_axis`` holds every axis's own."""

    scaler: str
    band: Band
    input_params: QuantParams
    levels: int
    band_samples: int                  # pooled over the axes
    codes_used: int                    # worst axis
    effective_bits: float              # worst axis: log2(codes_used)
    g_per_code: float                  # worst axis: median code width in the band
    sqnr_db: float | None              # worst axis
    saturation_rate: float             # saturation_axis: share of its band samples the scaler clips
    trace_saturation_rate: float       # share clipped of every sample and axis of the trace
    range_g: float                     # worst axis: g span of the whole code range
    range_ratio: float                 # range_g / band width
    worst_axis: str
    saturation_axis: str
    per_axis: list[AxisMetrics] = field(default_factory=list)
    # Share of the input type's range (INT8's 256 codes, int16's 65536) the band gets on the worst
    # axis: band width over the g span of the whole code range (affine scalers, where every code
    # is as wide); for other scalers the share of codes whose value lies in the band (one side).
    # A capacity, set by the scaler and the input quantization alone, whatever data is streamed.
    band_share: float = math.nan

    @property
    def input_dtype(self) -> str:
        """"int8", or "int16" for a 16x8 model's input."""
        return self.input_params.dtype

    def to_dict(self) -> dict:
        def clean(value):
            if isinstance(value, float) and not math.isfinite(value):
                return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
            return value
        d = asdict(self)
        d["band"] = {"lo_g": self.band.lo_g, "hi_g": self.band.hi_g}
        d["input_params"] = self.input_params.to_dict()
        d["per_axis"] = [{k: clean(v) for k, v in asdict(a).items()} for a in self.per_axis]
        return {k: clean(v) if not isinstance(v, (dict, list)) else v for k, v in d.items()}


def _matrix_g(g, what: str) -> np.ndarray:
    array = np.asarray(g, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    array = array.reshape(-1, array.shape[-1])
    if array.shape[0] == 0:
        raise TraceError(f"{what} is empty")
    bad = ~np.isfinite(array)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise TraceError(f"{what} has a non-finite value {array[row, column]}", row=row,
                         column=AXIS_NAMES[column] if array.shape[1] == 3 else str(column))
    return array


def calibrate(scaler: Scaler | str, calibration_g, input_dtype: str = "int8") -> tuple[Scaler, QuantParams]:
    """Fit the scaler on the calibration set, then choose the INT8 input parameters from the
    min/max of the scaled calibration set (one per-tensor scale for all channels, as TFLite).
    ``input_dtype="int16"``: a 16x8 model's symmetric int16 input, max(|min|, |max|) / 32767."""
    if isinstance(scaler, str):
        scaler = parse_scaler_spec(scaler)
    calibration = _matrix_g(calibration_g, "calibration set")
    scaled = scaler.fit(calibration).transform(calibration)
    return scaler, choose_params_for(float(scaled.min()), float(scaled.max()), input_dtype)


def _distinct_rows(codes: np.ndarray) -> int:
    """Distinct code tuples (rows), for int8 or int16 codes and any channel count."""
    if codes.shape[0] == 0:
        return 0
    return int(np.unique(np.asarray(codes, dtype=np.int64), axis=0).shape[0])


def _channel_g_span(scaler: Scaler, params: QuantParams, channel: int) -> float:
    """g span channel ``channel`` represents between its clip/rail bounds."""
    y_lo, y_hi = params.real_min, params.real_max
    if scaler.affine:
        form = scaler.affine_form()
        y_lo, y_hi = max(y_lo, form.clip_lo[channel]), min(y_hi, form.clip_hi[channel])
        return abs(y_hi - y_lo) / abs(form.gain[channel])
    bounds = np.zeros((2, scaler.output_channels))
    bounds[:, channel] = [y_lo, y_hi]
    g = scaler.inverse(bounds)
    g = g if g.ndim == 2 else g[:, None]
    return float(abs(g[1, scaler.source_axis[channel]] - g[0, scaler.source_axis[channel]]))


def band_share(scaler: Scaler, params: QuantParams, band: Band, axis: int) -> float:
    """Share of the input type's range (int8, int16) that the band ``lo..hi`` g gets on input ``axis``: the best
    of the output channels computed from that axis (two_stage's fine channel, say)."""
    channels = np.flatnonzero(scaler.source_axis == axis)
    if scaler.affine:
        return min(1.0, max(band.width_g / _channel_g_span(scaler, params, int(c)) for c in channels))
    codes = np.arange(params.qmin, params.qmax + 1)
    best = 0.0
    for channel in channels:
        grid = np.zeros((len(codes), scaler.output_channels))
        grid[:, channel] = dequantize(codes, params)
        g = scaler.inverse(grid)
        g = g if g.ndim == 2 else g[:, None]
        values = g[:, axis]
        inside = (values >= band.lo_g) & (values <= band.hi_g)
        best = max(best, float(inside.mean()))
    return best


def input_saturation_mask(scaler: Scaler, params: QuantParams, g: np.ndarray) -> np.ndarray:
    """(n, output_channels): the scaler clips the sample, or its scaled value lies beyond a rail."""
    ratio = scaler.transform(g) / float(np.float32(params.scale)) + params.zero_point
    return scaler.saturation_mask(g) | (ratio < params.qmin - 0.5) | (ratio > params.qmax + 0.5)


def band_metrics(scaler: Scaler, params: QuantParams, trace_g, band: Band = Band(*DEFAULT_BAND_G),
                 label: str | None = None, codes=None) -> ScalerMetrics:
    """Metrics of ``trace_g`` (n, axes) through a fitted scaler and INT8 (or int16) input ``params``.

    ``codes`` (n, output_channels): the input codes some device actually produced for these
    samples; measured instead of the host's own quantization, with the same definitions.
    """
    g = _matrix_g(trace_g, "trace")
    if g.shape[1] != scaler.input_channels:
        raise ScalerError(f"trace has {g.shape[1]} axes, scaler was fitted on {scaler.input_channels}")
    if codes is None:
        codes = quantize(scaler.transform(g), params)
    else:
        codes = np.asarray(codes)
        if codes.size != len(g) * scaler.output_channels:
            raise ScalerError(f"{codes.size} input codes for {len(g)} samples of "
                              f"{scaler.output_channels} channels")
        codes = codes.reshape(len(g), scaler.output_channels)
    saturated = input_saturation_mask(scaler, params, g)
    reconstructed = scaler.inverse(dequantize(codes, params), saturated=saturated)
    reconstructed = reconstructed if reconstructed.ndim == 2 else reconstructed[:, None]
    code_width_g = float(np.float32(params.scale)) * scaler.g_per_unit(g)
    code_width_g = np.where(saturated, np.inf, code_width_g)
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
        widths = widths[np.isfinite(widths)]  # saturated samples have no code width
        values = g[in_band, axis]
        error = reconstructed[in_band, axis] - values
        signal_power = float(np.sum((values - values.mean()) ** 2))
        error_power = float(np.sum(error ** 2))
        if signal_power == 0.0:
            sqnr = None
        elif error_power == 0.0:
            sqnr = math.inf
        else:
            sqnr = 10.0 * math.log10(signal_power / error_power)
        per_axis.append(AxisMetrics(
            axis=names[axis], band_samples=count, codes_used=used,
            effective_bits=math.log2(used) if used > 1 else 0.0,
            g_per_code=float(np.median(widths)) if widths.size else math.inf, sqnr_db=sqnr,
            saturation_rate=float(axis_saturated[in_band, axis].mean()), range_g=range_g))

    shares = {names[axis]: band_share(scaler, params, band, axis) for axis in range(g.shape[1])}
    measured = [a for a in per_axis if a.band_samples > 0]
    if not measured:
        raise TraceError(f"no sample of the trace falls in the band {band} (|value| on any axis); "
                         "choose another --band or a trace that contains it")
    worst = min(measured, key=lambda a: (a.codes_used, -a.saturation_rate))
    saturating = max(measured, key=lambda a: a.saturation_rate)
    return ScalerMetrics(
        scaler=label or scaler.name, band=band, input_params=params, levels=params.levels,
        band_samples=sum(a.band_samples for a in measured),
        codes_used=worst.codes_used, effective_bits=worst.effective_bits,
        g_per_code=worst.g_per_code, sqnr_db=worst.sqnr_db,
        saturation_rate=saturating.saturation_rate, saturation_axis=saturating.axis,
        trace_saturation_rate=float(axis_saturated.mean()),
        range_g=worst.range_g, range_ratio=worst.range_g / band.width_g,
        worst_axis=worst.axis, per_axis=per_axis,
        band_share=min(shares[a.axis] for a in measured))


def analyze_scalers(specs, trace_g, calibration_g=None, band: Band = Band(*DEFAULT_BAND_G),
                    input_dtype: str = "int8"):
    """[(spec, fitted scaler, params, metrics)] for each scaler spec, side by side, at the input
    type ``input_dtype`` ("int16": each scaler at 16x8)."""
    calibration_g = trace_g if calibration_g is None else calibration_g
    results = []
    for spec in specs:
        scaler, params = calibrate(spec, calibration_g, input_dtype)
        results.append((spec, scaler, params, band_metrics(scaler, params, trace_g, band, label=spec)))
    return results
