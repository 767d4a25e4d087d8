"""Per-layer figures of an INT8 tensor against the float model's corresponding tensor.

With ``f`` the float tensor and ``q`` the dequantized INT8 tensor ((code - zero_point) * scale),
``e = q - f``, sums over every element of every window:

* ``sqnr_db`` = 10 log10(sum f^2 / sum e^2): inf when there is no error, -inf when f is all zero
  and e is not (nan when both are zero);
* ``rmse`` = sqrt(mean e^2), in the tensor's float units;
* ``l2r`` = ||e||_2 / ||f||_2, the relative L2 error (sqnr_db = -20 log10 l2r);
* ``range_ratio`` = (max f - min f) / (255 * scale): the share of the 255 INT8 steps the float
  tensor spans. 1: the grid fits the float range; 0.1: the values use a tenth of the codes
  (the calibration range is ten times theirs); above 1 the tensor saturates;
* ``saturation`` = share of codes at -128 or 127 (at a ReLU's zero point -128 this is also
  "exactly zero");
* ``codes_per_channel``: distinct codes of each channel (the last axis), over all windows.

``error_jump``: the layer where the error jumps, the largest SQNR drop between consecutive
layers of the sequence (the input first). The input's own drop is measured from the SQNR an
ideal 8-bit quantizer gives a full-scale uniform signal (6.02 * 8 + 1.76 = 49.9 dB), so a
badly scaled input counts as a drop at the input.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

IDEAL_INT8_SQNR_DB = 6.02 * 8 + 1.76
FLOOR_DB = 20.0   # a layer under this SQNR against float is lossy (a relative L2 error of 10 %; judge.py)
JUMP_DB = 6.0   # one bit: a drop smaller than this is not called a jump


def _pair(reference, approx) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(reference, dtype=np.float64).ravel()
    q = np.asarray(approx, dtype=np.float64).ravel()
    if f.shape != q.shape:
        raise ValueError(f"tensors of {f.size} and {q.size} elements")
    return f, q


def sqnr_db(reference, approx) -> float:
    f, q = _pair(reference, approx)
    signal, noise = float(np.sum(f * f)), float(np.sum((q - f) ** 2))
    if noise == 0.0:
        return math.inf if signal > 0 else math.nan
    if signal == 0.0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)


def rmse(reference, approx) -> float:
    f, q = _pair(reference, approx)
    return float(np.sqrt(np.mean((q - f) ** 2))) if f.size else math.nan


def l2r(reference, approx) -> float:
    f, q = _pair(reference, approx)
    norm = float(np.linalg.norm(f))
    error = float(np.linalg.norm(q - f))
    if norm == 0.0:
        return 0.0 if error == 0.0 else math.inf
    return error / norm


def range_ratio(reference, scale: float | None) -> float:
    """(max - min of the float tensor) / (255 * scale); nan for a tensor that is not quantized."""
    f = np.asarray(reference, dtype=np.float64)
    if scale is None or not scale > 0 or f.size == 0:
        return math.nan
    return float((f.max() - f.min()) / (255.0 * scale))


def saturation_share(codes) -> float:
    """Share of codes on a rail of their type (int8, or int16 in a 16x8 model)."""
    c = np.asarray(codes)
    if c.dtype not in (np.int8, np.int16) or c.size == 0:
        return math.nan
    rails = np.iinfo(c.dtype)
    return float(np.mean((c == rails.min) | (c == rails.max)))


def codes_per_channel(codes) -> np.ndarray:
    """Distinct codes per channel (last axis) of int8 (int16) codes of any shape (windows first)."""
    c = np.asarray(codes)
    if c.dtype not in (np.int8, np.int16) or c.size == 0:
        return np.zeros(0, dtype=np.int64)
    flat = c.reshape(-1, c.shape[-1] if c.ndim else 1)
    return np.array([len(np.unique(flat[:, k])) for k in range(flat.shape[1])], dtype=np.int64)


@dataclass(frozen=True)
class Jump:
    index: int        # position in the sequence (0 = the input)
    drop_db: float    # SQNR before minus SQNR here (the input: from IDEAL_INT8_SQNR_DB)

    @property
    def is_jump(self) -> bool:
        return self.drop_db >= JUMP_DB


def error_jump(sqnrs_db, start_db: float = IDEAL_INT8_SQNR_DB) -> Jump | None:
    """The largest SQNR drop between consecutive layers (module docstring); None if fewer than
    one finite figure. Infinite SQNRs (no error at all) count as start_db."""
    values = [start_db if (v is None or math.isnan(v) or v == math.inf) else min(float(v), start_db)
              for v in sqnrs_db]
    if not values:
        return None
    previous = [start_db] + values[:-1]
    drops = [p - v for p, v in zip(previous, values)]
    best = int(np.argmax(drops))
    return Jump(best, float(drops[best]))


@dataclass(frozen=True)
class LayerFigures:
    """One position of the common op sequence, pooled over every window judged."""

    position: int              # -1: the graph input
    label: str                 # "input", "CONV_2D #1" (the INT8 op index)
    op_index: int              # the INT8 graph's op, -1 for the input
    op_name: str
    shape: tuple[int, ...]
    scale: float | None
    zero_point: int | None
    sqnr_db: float
    rmse: float
    l2r: float
    range_ratio: float
    saturation: float
    codes_min: int             # fewest distinct codes of any channel
    codes_median: float
    cost: float | None = None  # mean device cost of the op per window

    def to_dict(self) -> dict:
        out = asdict(self)
        out["shape"] = list(self.shape)
        return out


def figures_of(position: int, label: str, op_index: int, op_name: str, int8_values: np.ndarray,
               scale: float | None, zero_point: int | None, float_values: np.ndarray,
               cost: float | None = None) -> LayerFigures:
    """Figures of one layer: ``int8_values`` are the codes (or float32 after a DEQUANTIZE),
    stacked over windows; ``float_values`` the float tensors, the same shape."""
    codes = np.asarray(int8_values)
    if scale is not None and codes.dtype.kind == "i":
        dequantized = (codes.astype(np.float64) - float(zero_point)) * float(scale)
    else:
        dequantized = codes.astype(np.float64)
    reference = np.asarray(float_values, dtype=np.float64)
    per_channel = codes_per_channel(codes)
    return LayerFigures(position, label, op_index, op_name, tuple(codes.shape[1:]), scale, zero_point,
                        sqnr_db(reference, dequantized), rmse(reference, dequantized),
                        l2r(reference, dequantized), range_ratio(reference, scale), saturation_share(codes),
                        int(per_channel.min()) if per_channel.size else 0,
                        float(np.median(per_channel)) if per_channel.size else 0.0, cost)
