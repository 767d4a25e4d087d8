"""Scaler + input quantization folded into one integer map: raw int16 sensor counts -> int8 codes
(or int16 codes, zero point 0, for a 16x8 model's int16 input).

The float path the model was calibrated with is::

    g     = (counts - bias_counts) / counts_per_g
    y     = scaler.transform(g)                        # float
    code  = clamp(round_half_away(y / scale) + zero_point)   # TFLite QUANTIZE

Affine scalers (minmax, robust, zscore, two_stage) make ``y / scale = counts * a + b`` per output
channel, so the device can skip floats entirely (``AffineFold``)::

    x    = (int64)counts * multiplier + offset          # multiplier int32, offset int64
    code = sign(x) * ((|x| + 2**(shift-1)) >> shift)   # round half away from zero, like TFLite
    code = clamp(code + zero_point, code_min, code_max)

with ``multiplier ~= a * 2**shift`` (|multiplier| < 2**31, so one SMULL on a Cortex-M4) and
``offset ~= b * 2**shift``; |x| < 2**62, so nothing overflows. ``code_min/code_max`` are the int8
rails narrowed to the quantized clip bounds of the scaler (quantize is monotone, so
``quantize(clip(y))`` equals ``clamp(quantize(y))`` to those bounds).

Against the float path the integer map differs by at most one code, and only where ``y / scale``
lies within about 1e-5 of a rounding tie (float32 rounding in TFLite's division on one side, a
2**-shift rounding of ``a`` and ``b`` on the other). ``compare_to_float_path`` counts them; the
tests bound them over all 65536 counts. The host mirror (``AffineFold.codes``) and the C code
(``firmware/src/preprocess/preprocess.c``) are bit-exact, exhaustively.

For a 16x8 model the input is int16 with zero point 0 (TFLite quantization spec), so the same
affine map runs with the int16 rails: ``code_bits = 16``, and ``code_min/code_max`` in
[-32768, 32767]. The threshold form does not scale to 65535 steps per channel (256 KB of table),
so a non-affine scaler at 16x8 is refused with a ``QuantizationError`` naming it.

log1p is not affine. A 64 KB per-count table would fit no budget, and running ``log1pf`` on the
Cortex-M4F FPU would tie bit-exactness to its libm. Instead: every scaler here is monotone and so
is quantize, so the whole map is determined by where the code steps up. ``ThresholdFold`` stores,
per channel, the 255 smallest counts at which the code reaches -127, ..., 127 (1 KB as int32) and
the device counts thresholds <= counts with an 8-step binary search. It reproduces the host float
path *exactly* for every int16 count, because the table is built from that path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.errors import QuantizationError, ScalerError
from harness.quant.scalers import Scaler
from harness.quant.tflite import QuantParams, quantize

COUNTS_MIN = -32768
COUNTS_MAX = 32767
ALL_COUNTS = np.arange(COUNTS_MIN, COUNTS_MAX + 1, dtype=np.int64)
FOLD_FORMAT = 1
FOLD_KINDS = ("affine", "threshold")   # AffineFold.kind, ThresholdFold.kind: an export's "kind"
CODE_BITS = (8, 16)     # int8 codes, or int16 codes for a 16x8 model's input


def _counts_matrix(counts, axes: int) -> tuple[np.ndarray, tuple[int, ...]]:
    array = np.asarray(counts)
    if not np.issubdtype(array.dtype, np.integer):
        raise QuantizationError(f"sensor counts must be integers, got dtype {array.dtype}")
    if array.size and (array.min() < COUNTS_MIN or array.max() > COUNTS_MAX):
        raise QuantizationError("sensor counts must fit in int16")
    if array.ndim == 0 or array.shape[-1] != axes:
        raise QuantizationError(f"sensor counts must have {axes} axes on the last dimension, "
                                f"got shape {array.shape}")
    return array.reshape(-1, axes).astype(np.int64), array.shape


def float_path_codes(scaler: Scaler, input_params: QuantParams, counts, counts_per_g: float,
                     bias_counts: float = 0.0) -> np.ndarray:
    """Reference: counts -> g -> scaler (float64) -> TFLite QUANTIZE. Shape (..., output_channels)."""
    matrix, shape = _counts_matrix(counts, scaler.input_channels)
    g = (matrix - float(bias_counts)) / float(counts_per_g)
    codes = quantize(scaler.transform(g), input_params)
    return codes.reshape(shape[:-1] + (scaler.output_channels,))


def _round_shift_half_away(x: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """round_half_away(x / 2**shift) for int64 x, exactly (works on magnitudes, as the C code)."""
    half = np.int64(1) << (shift - 1)
    magnitude = (np.abs(x) + half) >> shift
    return np.where(x < 0, -magnitude, magnitude)


@dataclass(frozen=True)
class AffineFold:
    """Integer-only affine map per output channel (arrays have one entry per output channel)."""

    source_axis: np.ndarray   # input axis each output channel reads
    multiplier: np.ndarray    # int32 range
    offset: np.ndarray        # int64
    shift: np.ndarray         # 1..62
    zero_point: int
    code_min: np.ndarray      # int8 (int16) rails, narrowed by the scaler's clip
    code_max: np.ndarray
    input_channels: int
    kind: str = "affine"
    code_bits: int = 8        # 16: int16 codes for a 16x8 model's input

    @property
    def code_dtype(self) -> np.dtype:
        return np.dtype(np.int16 if self.code_bits == 16 else np.int8)

    def codes(self, counts) -> np.ndarray:
        """Host mirror of ``hil_preprocess`` for affine channels: int16 counts -> int8 codes
        (``hil_preprocess_window16``: int16 codes when ``code_bits`` is 16)."""
        matrix, shape = _counts_matrix(counts, self.input_channels)
        x = matrix[:, self.source_axis] * self.multiplier + self.offset
        code = _round_shift_half_away(x, self.shift) + self.zero_point
        code = np.clip(code, self.code_min, self.code_max).astype(self.code_dtype)
        return code.reshape(shape[:-1] + (len(self.source_axis),))

    def export(self) -> dict:
        # "code_bits" only when 16: an int8 fold exports as it always has (same bytes in bundles)
        wide = {"code_bits": 16} if self.code_bits == 16 else {}
        return {"kind": self.kind, "format": FOLD_FORMAT, "input_channels": int(self.input_channels),
                "zero_point": int(self.zero_point), **wide,
                "channels": [{"source_axis": int(a), "multiplier": int(m), "offset": int(o),
                              "shift": int(s), "code_min": int(lo), "code_max": int(hi)}
                             for a, m, o, s, lo, hi in zip(self.source_axis, self.multiplier,
                                                           self.offset, self.shift,
                                                           self.code_min, self.code_max)]}


@dataclass(frozen=True)
class ThresholdFold:
    """Monotone map as step thresholds: code = code_base + #{k : thresholds[j, k] <= counts}.

    ``thresholds`` has shape (output_channels, 255); an entry of 32768 is a step never reached.
    """

    source_axis: np.ndarray
    thresholds: np.ndarray    # int32, ascending per channel
    code_base: int
    input_channels: int
    kind: str = "threshold"
    code_bits: int = 8        # always: thresholds are an int8 form

    def codes(self, counts) -> np.ndarray:
        matrix, shape = _counts_matrix(counts, self.input_channels)
        out = np.empty((matrix.shape[0], len(self.source_axis)), dtype=np.int8)
        for j, axis in enumerate(self.source_axis):
            steps = np.searchsorted(self.thresholds[j], matrix[:, axis], side="right")
            out[:, j] = self.code_base + steps
        return out.reshape(shape[:-1] + (len(self.source_axis),))

    def export(self) -> dict:
        return {"kind": self.kind, "format": FOLD_FORMAT, "input_channels": int(self.input_channels),
                "code_base": int(self.code_base),
                "channels": [{"source_axis": int(a), "thresholds": [int(t) for t in row]}
                             for a, row in zip(self.source_axis, self.thresholds)]}


def fold_from_export(exported: dict) -> AffineFold | ThresholdFold:
    try:
        channels = exported["channels"]
        if exported["kind"] == "affine":
            code_bits = int(exported.get("code_bits", 8))
            if code_bits not in CODE_BITS:
                raise QuantizationError(f"exported fold has code_bits {code_bits}; known: 8, 16")
            return AffineFold(
                source_axis=np.array([c["source_axis"] for c in channels], dtype=np.int64),
                multiplier=np.array([c["multiplier"] for c in channels], dtype=np.int64),
                offset=np.array([c["offset"] for c in channels], dtype=np.int64),
                shift=np.array([c["shift"] for c in channels], dtype=np.int64),
                zero_point=int(exported["zero_point"]),
                code_min=np.array([c["code_min"] for c in channels], dtype=np.int64),
                code_max=np.array([c["code_max"] for c in channels], dtype=np.int64),
                input_channels=int(exported["input_channels"]), code_bits=code_bits)
        if exported["kind"] == "threshold":
            return ThresholdFold(
                source_axis=np.array([c["source_axis"] for c in channels], dtype=np.int64),
                thresholds=np.array([c["thresholds"] for c in channels], dtype=np.int64),
                code_base=int(exported["code_base"]),
                input_channels=int(exported["input_channels"]))
    except (KeyError, TypeError) as e:
        raise QuantizationError(f"exported fold lacks or mangles field {e}") from e
    raise QuantizationError(f"unknown fold kind {exported.get('kind')!r}; known: {', '.join(FOLD_KINDS)}")


def _check_sensor(counts_per_g: float, bias_counts: float):
    if not (np.isfinite(counts_per_g) and counts_per_g > 0):
        raise QuantizationError(f"counts_per_g must be finite and > 0, got {counts_per_g}")
    if not np.isfinite(bias_counts):
        raise QuantizationError(f"bias_counts must be finite, got {bias_counts}")


def _code_bits(input_params: QuantParams) -> int:
    """8 for an int8 input, 16 for a 16x8 model's int16 input (zero point 0); else refused."""
    if input_params.dtype == "int8":
        return 8
    if input_params.dtype == "int16":
        if input_params.zero_point != 0:
            raise QuantizationError(f"int16 input with zero point {input_params.zero_point}: "
                                    "the TFLite quantization spec requires 0")
        return 16
    raise QuantizationError(f"input codes in [{input_params.qmin}, {input_params.qmax}] are neither "
                            "int8 nor int16; the fold produces one of those")


def fold_affine(scaler: Scaler, input_params: QuantParams, counts_per_g: float,
                bias_counts: float = 0.0) -> AffineFold:
    """Fold an affine scaler and the input quantization into multiplier/offset/shift per channel."""
    _check_sensor(counts_per_g, bias_counts)
    code_bits = _code_bits(input_params)
    form = scaler.affine_form()
    scale = float(np.float32(input_params.scale))
    a = form.gain / (counts_per_g * scale)
    b = (form.offset - bias_counts * form.gain / counts_per_g) / scale
    multipliers, offsets, shifts = [], [], []
    for a_j, b_j in zip(a, b):
        if a_j == 0 or not np.isfinite(a_j) or not np.isfinite(b_j):
            raise QuantizationError(f"folded gain {a_j} / offset {b_j} cannot be represented")
        _, exponent = np.frexp(a_j)          # |a| in [2**(e-1), 2**e)
        shift = 31 - int(exponent)           # |a| * 2**shift in [2**30, 2**31)
        b_bits = int(np.ceil(np.log2(abs(b_j) + 1.0)))
        shift = min(shift, 61 - b_bits, 62)  # keep |offset| < 2**61 so |x| stays below 2**62
        while True:
            multiplier = int(np.round(a_j * 2.0 ** shift))
            if abs(multiplier) < (1 << 31):
                break
            shift -= 1
        if shift < 1:
            raise QuantizationError(f"folded gain {a_j} codes per count is too large for int32 "
                                    "fixed point; check counts_per_g and the scaler's width")
        multipliers.append(multiplier)
        offsets.append(int(np.round(b_j * 2.0 ** shift)))
        shifts.append(shift)
    # +-inf (no clip) quantize to the int8 (int16) rails; finite clips to their own codes.
    code_min = np.maximum(quantize(np.maximum(form.clip_lo, -3e38), input_params).astype(np.int64),
                          input_params.qmin)
    code_max = np.minimum(quantize(np.minimum(form.clip_hi, 3e38), input_params).astype(np.int64),
                          input_params.qmax)
    return AffineFold(source_axis=form.source_axis.astype(np.int64),
                      multiplier=np.array(multipliers, dtype=np.int64),
                      offset=np.array(offsets, dtype=np.int64),
                      shift=np.array(shifts, dtype=np.int64),
                      zero_point=int(input_params.zero_point),
                      code_min=code_min, code_max=code_max,
                      input_channels=int(scaler.input_channels), code_bits=code_bits)


def fold_thresholds(scaler: Scaler, input_params: QuantParams, counts_per_g: float,
                    bias_counts: float = 0.0) -> ThresholdFold:
    """Tabulate any monotone scaler + quantization as 255 step thresholds per output channel."""
    _check_sensor(counts_per_g, bias_counts)
    if _code_bits(input_params) != 8:
        raise QuantizationError(f"scaler '{scaler.name}' is not affine: its threshold form would "
                                "need 65535 steps per channel for int16 codes (a 16x8 model); only "
                                "affine scalers (minmax, robust, zscore, two_stage) fold to int16")
    channels = scaler.input_channels
    grid = np.repeat(ALL_COUNTS[:, None], channels, axis=1)
    reference = float_path_codes(scaler, input_params, grid, counts_per_g, bias_counts).astype(np.int64)
    code_levels = np.arange(input_params.qmin + 1, input_params.qmax + 1)
    thresholds = np.empty((reference.shape[1], len(code_levels)), dtype=np.int64)
    for j in range(reference.shape[1]):
        column = reference[:, j]
        if np.any(np.diff(column) < 0):
            raise QuantizationError(f"scaler '{scaler.name}' output channel {j} is not monotone in "
                                    "the counts; it cannot be folded into thresholds")
        # first count whose code reaches each level; 65536 (-> counts 32768) when never reached
        thresholds[j] = np.searchsorted(column, code_levels, side="left") + COUNTS_MIN
    return ThresholdFold(source_axis=scaler.source_axis.astype(np.int64), thresholds=thresholds,
                         code_base=int(input_params.qmin), input_channels=channels)


def fold_scaler(scaler: Scaler, input_params: QuantParams, counts_per_g: float,
                bias_counts: float = 0.0) -> AffineFold | ThresholdFold:
    """The integer map the firmware runs: affine fold where possible, thresholds otherwise."""
    if scaler.affine:
        return fold_affine(scaler, input_params, counts_per_g, bias_counts)
    return fold_thresholds(scaler, input_params, counts_per_g, bias_counts)


@dataclass(frozen=True)
class FoldComparison:
    mismatches: int          # (count, channel) pairs where integer and float codes differ
    max_code_difference: int
    max_tie_distance: float  # largest |frac(y/scale) - 0.5| over the mismatches (0 = exact tie)
    evaluated: int


def compare_to_float_path(scaler: Scaler, input_params: QuantParams, counts_per_g: float,
                          bias_counts: float = 0.0) -> FoldComparison:
    """Integer map vs float path over every int16 count, every output channel."""
    fold = fold_scaler(scaler, input_params, counts_per_g, bias_counts)
    grid = np.repeat(ALL_COUNTS[:, None], scaler.input_channels, axis=1)
    integer = fold.codes(grid).astype(np.int64)
    reference = float_path_codes(scaler, input_params, grid, counts_per_g, bias_counts).astype(np.int64)
    differ = integer != reference
    if not differ.any():
        return FoldComparison(0, 0, 0.0, integer.size)
    g = (grid - float(bias_counts)) / float(counts_per_g)
    ratio = scaler.transform(g) / float(np.float32(input_params.scale))
    tie_distance = np.abs(np.abs(ratio - np.trunc(ratio)) - 0.5)
    return FoldComparison(int(differ.sum()), int(np.abs(integer - reference).max()),
                          float(tie_distance[differ].max()), integer.size)


def export_with_fixed_point(scaler: Scaler, input_params: QuantParams, counts_per_g: float,
                            bias_counts: float = 0.0) -> dict:
    """``scaler.export()`` plus ``fixed_point``: the integer-only form the firmware runs for the
    model's input quantization and the sensor's counts per g."""
    if counts_per_g is None:
        raise ScalerError("the fixed-point export needs counts_per_g (sensor LSB per g)")
    exported = scaler.export()
    exported["fixed_point"] = fold_scaler(scaler, input_params, counts_per_g, bias_counts=bias_counts).export()
    return exported
