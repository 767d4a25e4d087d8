"""INT8 quantization exactly as TFLite / TFLite Micro define it, vectorised in numpy.

This module is the Python mirror of the integer math the firmware runs. Each function names the
TFLite source it reproduces, so the C side and this side can be checked against the same vectors.

Affine mapping (TFLite quantization spec)::

    real = scale * (q - zero_point),   q in [-128, 127] for int8

* ``choose_quantization_params`` is ``ChooseQuantizationParams<int8_t>`` from
  ``tensorflow/lite/kernels/internal/quantization_util.h``, after extending [min, max] to contain 0
  (the converter does that first: real 0 must be exactly representable). The scale is then stored
  as float32, because that is what a ``.tflite`` flatbuffer holds.
* ``quantize`` is the reference QUANTIZE kernel (``reference_ops::AffineQuantize``): the division
  runs in float32 (``val / static_cast<float>(scale)``), rounding is ``std::round`` (half away from
  zero, *not* numpy's half-to-even), the zero point is added after rounding, then the result is
  clamped. Verified against the installed ``tflite_micro`` runtime in ``tests/quant``.
* ``dequantize`` is ``reference_ops::Dequantize``: ``float(double(scale) * (q - zero_point))``.
* ``quantize_multiplier``, ``saturating_rounding_doubling_high_mul``, ``rounding_divide_by_pot``
  and ``multiply_by_quantized_multiplier`` are ``QuantizeMultiplier`` (quantization_util.cc) and
  the gemmlowp primitives behind ``MultiplyByQuantizedMultiplier`` (kernels/internal/common.h,
  default double-rounding build, i.e. without ``TFLITE_SINGLE_ROUNDING``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.errors import QuantizationError

INT8_MIN = -128
INT8_MAX = 127
# 16x8 models (int16 activations, int8 weights): int16 tensors are symmetric, zero point 0
# (TFLite quantization spec; the converter's 16x8 mode and TFLM's int16 kernels require it).
INT16_MIN = -32768
INT16_MAX = 32767
INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


@dataclass(frozen=True)
class QuantParams:
    """Per-tensor affine quantization of one int8 tensor: ``real = scale * (q - zero_point)``.

    ``scale`` is kept as the float32 value a ``.tflite`` file stores (as a Python float).
    """

    scale: float
    zero_point: int
    qmin: int = INT8_MIN
    qmax: int = INT8_MAX

    def __post_init__(self):
        if not np.isfinite(self.scale) or self.scale <= 0:
            raise QuantizationError(f"scale must be finite and > 0, got {self.scale}")
        if not self.qmin <= self.zero_point <= self.qmax:
            raise QuantizationError(
                f"zero_point {self.zero_point} outside the quantized range [{self.qmin}, {self.qmax}]")

    @classmethod
    def for_dtype(cls, scale: float, zero_point: int, dtype: str) -> "QuantParams":
        """The parameters of a model tensor of ``dtype`` ("int8" or "int16", as the flatbuffer says)."""
        if dtype == "int8":
            return cls(scale, zero_point)
        if dtype == "int16":
            if int(zero_point) != 0:
                raise QuantizationError(f"int16 tensor with zero point {zero_point}: the TFLite "
                                        "quantization spec requires 0 (symmetric 16x8)")
            return cls(scale, 0, INT16_MIN, INT16_MAX)
        raise QuantizationError(f"no integer quantization for dtype {dtype!r}; expected int8 or int16")

    @property
    def dtype(self) -> str:
        """The narrowest signed integer type holding the codes: "int8", "int16" or "int32"."""
        if self.qmin >= INT8_MIN and self.qmax <= INT8_MAX:
            return "int8"
        if self.qmin >= INT16_MIN and self.qmax <= INT16_MAX:
            return "int16"
        return "int32"

    @property
    def levels(self) -> int:
        """Number of codes the tensor can take (256 for int8, 65536 for int16)."""
        return self.qmax - self.qmin + 1

    @property
    def real_min(self) -> float:
        """Real value of the lowest code."""
        return float(self.scale) * (self.qmin - self.zero_point)

    @property
    def real_max(self) -> float:
        """Real value of the highest code."""
        return float(self.scale) * (self.qmax - self.zero_point)

    def to_dict(self) -> dict:
        return {"scale": float(self.scale), "zero_point": int(self.zero_point),
                "qmin": int(self.qmin), "qmax": int(self.qmax)}

    @classmethod
    def from_dict(cls, d: dict) -> "QuantParams":
        try:
            return cls(scale=float(d["scale"]), zero_point=int(d["zero_point"]),
                       qmin=int(d.get("qmin", INT8_MIN)), qmax=int(d.get("qmax", INT8_MAX)))
        except KeyError as e:
            raise QuantizationError(f"quantization parameters lack the field {e}") from e


def _checked_range(real_min: float, real_max: float) -> tuple[float, float]:
    """A calibrated float range as two floats, finite and ordered, else a QuantizationError."""
    real_min, real_max = float(real_min), float(real_max)
    if not (np.isfinite(real_min) and np.isfinite(real_max)):
        raise QuantizationError(f"range [{real_min}, {real_max}] is not finite; "
                                "check the calibration data for NaN/inf")
    if real_min > real_max:
        raise QuantizationError(f"range minimum {real_min} is above its maximum {real_max}")
    return real_min, real_max


def choose_quantization_params(real_min: float, real_max: float, narrow_range: bool = False,
                               qmin: int = INT8_MIN, qmax: int = INT8_MAX) -> QuantParams:
    """Scale and zero point for a float range, as TFLite chooses them for an int8 tensor.

    The range is first extended to contain 0. ``narrow_range`` drops the lowest code (weights use
    [-127, 127]). A range that is a single point raises: TFLite would return scale 0, which makes
    every later division undefined, and for a harness that is a bug in the calibration data.
    """
    real_min, real_max = _checked_range(real_min, real_max)
    if narrow_range:
        qmin = qmin + 1
    rmin = min(real_min, 0.0)
    rmax = max(real_max, 0.0)
    if rmin == rmax:
        raise QuantizationError("range is the single point 0: scale would be 0; "
                                "the calibration data is constant zero")
    qmin_d = float(qmin)
    qmax_d = float(qmax)
    scale = (rmax - rmin) / (qmax_d - qmin_d)
    # Of the two pairs (rmin, qmin) and (rmax, qmax), TFLite uses the one with the smaller terms.
    zero_point_from_min = qmin_d - rmin / scale
    zero_point_from_max = qmax_d - rmax / scale
    zero_point_from_min_error = abs(qmin_d) + abs(rmin / scale)
    zero_point_from_max_error = abs(qmax_d) + abs(rmax / scale)
    zero_point_d = (zero_point_from_min if zero_point_from_min_error < zero_point_from_max_error
                    else zero_point_from_max)
    if zero_point_d < qmin_d:
        zero_point = qmin
    elif zero_point_d > qmax_d:
        zero_point = qmax
    else:
        zero_point = int(round_half_away_from_zero(zero_point_d))
    scale_f32 = float(np.float32(scale))
    if scale_f32 == 0.0:
        raise QuantizationError(f"range [{real_min}, {real_max}] too small for a float32 scale")
    return QuantParams(scale=scale_f32, zero_point=zero_point, qmin=qmin, qmax=qmax)


def choose_int16_quantization_params(real_min: float, real_max: float) -> QuantParams:
    """Scale of a 16x8 model's int16 activation (its input included), as the TFLite converter
    chooses it: symmetric, zero point 0, ``scale = max(|min|, |max|) / 32767`` (the calibrator's
    symmetric int16 parameters), stored as float32. The code -32768 is reachable only by clamping."""
    real_min, real_max = _checked_range(real_min, real_max)
    extent = max(abs(real_min), abs(real_max))
    if extent == 0.0:
        raise QuantizationError("range is the single point 0: scale would be 0; "
                                "the calibration data is constant zero")
    scale_f32 = float(np.float32(extent / INT16_MAX))
    if scale_f32 == 0.0:
        raise QuantizationError(f"range [{real_min}, {real_max}] too small for a float32 scale")
    return QuantParams(scale=scale_f32, zero_point=0, qmin=INT16_MIN, qmax=INT16_MAX)


def choose_params_for(real_min: float, real_max: float, dtype: str = "int8") -> QuantParams:
    """The input parameters a model of activation ``dtype`` ("int8", "int16" for 16x8) gets."""
    if dtype == "int8":
        return choose_quantization_params(real_min, real_max)
    if dtype == "int16":
        return choose_int16_quantization_params(real_min, real_max)
    raise QuantizationError(f"input dtype must be int8 or int16, got {dtype!r}")


def round_half_away_from_zero(values):
    """``std::round``: ties go away from zero (2.5 -> 3, -2.5 -> -3). numpy's ``round`` does not."""
    values = np.asarray(values, dtype=np.float64)
    # floor(|x| + 0.5) is exact in float64 for every float32 input and for |x| < 2**52.
    return np.copysign(np.floor(np.abs(values) + 0.5), values)


def quantize(real, params: QuantParams) -> np.ndarray:
    """Float values to int8 (or int16) codes, as the TFLite reference QUANTIZE kernel computes them.

    NaN raises (the C kernel's result would be undefined); +-inf saturate to the end codes.
    """
    real32 = np.asarray(real, dtype=np.float32)
    if np.isnan(real32).any():
        first = int(np.flatnonzero(np.isnan(real32).ravel())[0])
        raise QuantizationError(f"cannot quantize NaN (first at flat index {first})")
    with np.errstate(over="ignore"):
        ratio = real32 / np.float32(params.scale)  # float32 division, as the kernel does
    rounded = round_half_away_from_zero(ratio)
    # static_cast<int32_t> of an out-of-range float is undefined in C; clamping first keeps the
    # mirror defined and gives the only sensible result (the end codes).
    rounded = np.clip(rounded, INT32_MIN, INT32_MAX).astype(np.int64)
    codes = np.clip(rounded + params.zero_point, params.qmin, params.qmax)
    return codes.astype(params.dtype)


def dequantize(codes, params: QuantParams) -> np.ndarray:
    """int8 codes to float32, as the TFLite reference DEQUANTIZE kernel computes them."""
    codes = np.asarray(codes)
    if not np.issubdtype(codes.dtype, np.integer):
        raise QuantizationError(f"codes must be integers, got dtype {codes.dtype}")
    centred = codes.astype(np.int64) - params.zero_point
    return (float(np.float32(params.scale)) * centred).astype(np.float32)


def fake_quantize(real, params: QuantParams) -> np.ndarray:
    """Quantize then dequantize: the float values the int8 model actually sees."""
    return dequantize(quantize(real, params), params)


# --- fixed-point multipliers (quantization_util.cc, gemmlowp) ------------------------------

def quantize_multiplier(real_multiplier: float) -> tuple[int, int]:
    """``QuantizeMultiplier``: a positive double as an int32 Q0.31 significand and a shift.

    ``real_multiplier ~= quantized_multiplier * 2**(shift - 31)``; shift > 0 is a left shift.
    Multipliers below about 2**-31 flush to (0, 0), as in TFLite.
    """
    m = float(real_multiplier)
    if not np.isfinite(m) or m < 0:
        raise QuantizationError(f"multiplier must be finite and >= 0, got {real_multiplier}")
    if m == 0.0:
        return 0, 0
    significand, shift = np.frexp(m)
    q_fixed = int(round_half_away_from_zero(float(significand) * (1 << 31)))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    shift = int(shift)
    if shift < -31:
        return 0, 0
    if shift > 30:
        raise QuantizationError(f"multiplier {m} needs a left shift of {shift} > 30; "
                                "TFLite kernels cannot apply it")
    return q_fixed, shift


def _as_int64(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if not np.issubdtype(array.dtype, np.integer):
        raise QuantizationError(f"{name} must be integers, got dtype {array.dtype}")
    array = array.astype(np.int64)
    if array.size and (array.min() < INT32_MIN or array.max() > INT32_MAX):
        raise QuantizationError(f"{name} must fit in int32")
    return array


def saturating_rounding_doubling_high_mul(a, b) -> np.ndarray:
    """gemmlowp ``SaturatingRoundingDoublingHighMul`` on int32 values (returned as int64 array)."""
    a64 = _as_int64(a, "a")
    b64 = _as_int64(b, "b")
    overflow = (a64 == b64) & (a64 == INT32_MIN)
    ab = a64 * b64  # |ab| <= 2**62: exact in int64
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    total = ab + nudge
    # C integer division truncates toward zero; numpy's // floors, so divide the magnitude.
    high = np.sign(total) * (np.abs(total) >> 31)
    return np.where(overflow, INT32_MAX, high).astype(np.int64)


def rounding_divide_by_pot(x, exponent) -> np.ndarray:
    """gemmlowp ``RoundingDivideByPOT``: x / 2**exponent, ties away from zero, 0 <= exponent <= 31."""
    x64 = _as_int64(x, "x")
    exponent = np.asarray(exponent, dtype=np.int64)
    if exponent.size and (exponent.min() < 0 or exponent.max() > 31):
        raise QuantizationError("exponent must be in [0, 31]")
    mask = (np.int64(1) << exponent) - 1
    remainder = x64 & mask
    threshold = (mask >> 1) + (x64 < 0).astype(np.int64)
    return (x64 >> exponent) + (remainder > threshold).astype(np.int64)


def multiply_by_quantized_multiplier(x, quantized_multiplier, shift) -> np.ndarray:
    """TFLite ``MultiplyByQuantizedMultiplier`` (double rounding), vectorised.

    The left shift ``x * (1 << left_shift)`` overflows int32 in C (undefined behaviour); here it
    raises instead of wrapping silently.
    """
    x64 = _as_int64(x, "x")
    shift = np.asarray(shift, dtype=np.int64)
    left_shift = np.where(shift > 0, shift, 0)
    right_shift = np.where(shift > 0, 0, -shift)
    shifted = x64 << left_shift
    if shifted.size and (shifted.min() < INT32_MIN or shifted.max() > INT32_MAX):
        raise QuantizationError("x << left_shift overflows int32 in MultiplyByQuantizedMultiplier")
    return rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(shifted, quantized_multiplier), right_shift)
