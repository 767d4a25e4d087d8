"""Seeded random INT8 TFLite models for bit-exactness tests, fuzz corpora and benchmarks.

Each model is a small chain the way converters emit them: an optional QUANTIZE from float, a
4-D stage (CONV_2D / DEPTHWISE_CONV_2D with per-channel or per-tensor weights, pools, residual
ADD of two branches, broadcast ADD of a constant, int8 requantize), then MEAN or a flatten
(RESHAPE / SQUEEZE), FULLY_CONNECTED layers, EXPAND_DIMS/SQUEEZE, and SOFTMAX or DEQUANTIZE at
the end. Shapes, scales, zero points, activations, strides, paddings and dilations are random;
the same seed always gives the same bytes. The 16x8 generator (random_models_16x8.py) is a
subclass with its own op mix and quantization; both build their chain with _random_chain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from harness.engine import tflite_builder as tb
from harness.engine.tflite_builder import Activation, BuiltinOp, ModelBuilder, Padding

ACTIVATIONS = [Activation.NONE, Activation.NONE, Activation.RELU, Activation.RELU6,
               Activation.RELU_N1_TO_1]


@dataclass
class GeneratedModel:
    seed: int
    model: bytes
    ops: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"seed{self.seed}:" + "-".join(self.ops)


@dataclass
class _Value:
    index: int
    shape: tuple[int, ...]
    scale: float
    zero_point: int
    dtype: str = "int8"


class _Gen:
    # The op mix of _random_chain: ((threshold, op), ...) against one uniform draw each.
    ENTRIES = ((0.15, lambda g, shape: g.quantize_from_float(shape)),)
    INPUT_SCALE_DIVISOR = 1.0
    STAGE_OPS = ((0.3, lambda g, x: g.conv(x)), (0.5, lambda g, x: g.conv(x, depthwise=True)),
                 (0.6, lambda g, x: g.pool(x, "max")), (0.7, lambda g, x: g.pool(x, "avg")),
                 (0.9, lambda g, x: g.add(x)), (math.inf, lambda g, x: g.requantize(x)))
    TAIL_OPS = ((0.4, lambda g, x: g.softmax(x)), (0.55, lambda g, x: g.dequantize(x)))

    def __init__(self, seed: int):
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.b = ModelBuilder(f"random model seed {seed}")
        self.ops: list[str] = []
        self.count = 0

    # --- random quantities ---------------------------------------------------------------

    def scale(self, lo=0.004, hi=0.25) -> float:
        return float(np.float32(math.exp(self.rng.uniform(math.log(lo), math.log(hi)))))

    def late_mean(self, x: _Value) -> _Value:
        """The chain's optional MEAN of a 2-D value."""
        if self.rng.random() < 0.15:
            return self.mean(x) if len(x.shape) == 2 and x.shape[1] > 1 and self.rng.random() < 0.3 else x
        return x

    def zero_point(self) -> int:
        if self.rng.random() < 0.25:
            return int(self.rng.integers(-128, 128))
        return int(self.rng.integers(-30, 31))

    def activation(self) -> Activation:
        return ACTIVATIONS[int(self.rng.integers(len(ACTIVATIONS)))]

    def name(self, kind: str) -> str:
        self.count += 1
        return f"{kind}_{self.count}"

    def tensor(self, shape, scale, zp, dtype="int8") -> _Value:
        index = self.b.add_tensor(self.name("t"), shape, dtype,
                                  None if dtype == "float32" else scale,
                                  None if dtype == "float32" else zp)
        return _Value(index, tuple(shape), scale, zp, dtype)

    def accum_output_scale(self, in_scale: float, filter_scales: np.ndarray, depth: int) -> float:
        # Spread of an int8 dot product of `depth` terms, mapped onto ~3 sigma of int8.
        sigma = in_scale * float(np.mean(filter_scales)) * 73.0 * 60.0 * math.sqrt(depth)
        return float(np.float32(3.0 * sigma / 127.0 * math.exp(self.rng.uniform(-0.7, 0.7))))

    def weights(self, shape) -> np.ndarray:
        return self.rng.integers(-127, 128, size=shape, dtype=np.int8)

    def bias(self, in_scale: float, filter_scales: np.ndarray, channels: int, per_channel: bool):
        values = self.rng.integers(-3000, 3001, size=channels).astype(np.int32)
        scales = (np.float32(in_scale) * filter_scales.astype(np.float32)).astype(np.float32)
        if not per_channel:
            scales = scales[:1]
        return self.b.add_const(self.name("bias"), values, scale=scales,
                                zero_point=[0] * len(scales), quantized_dimension=0)

    # --- 4-D ops ---------------------------------------------------------------------------

    def spatial(self, size: int, kernel: int, stride: int, dilation: int):
        effective = (kernel - 1) * dilation + 1
        padding = Padding.SAME if (self.rng.random() < 0.5 or size < effective) else Padding.VALID
        if padding == Padding.SAME:
            out = (size + stride - 1) // stride
        else:
            out = (size + stride - effective) // stride
        return padding, out

    def conv(self, x: _Value, depthwise: bool = False, same_channels: bool = False,
             keep_spatial: bool = False) -> _Value:
        n, h, w, c = x.shape
        kh, kw = (int(v) for v in self.rng.choice([1, 2, 3, 5], size=2, p=[0.3, 0.2, 0.4, 0.1]))
        if keep_spatial:
            stride_h = stride_w = dil_h = dil_w = 1
        else:
            stride_h, stride_w = (int(v) for v in self.rng.choice([1, 2], size=2, p=[0.7, 0.3]))
            dil_h, dil_w = (int(v) for v in self.rng.choice([1, 2], size=2, p=[0.85, 0.15]))
        pad_h, out_h = self.spatial(h, kh, stride_h, dil_h)
        pad_w, out_w = self.spatial(w, kw, stride_w, dil_w)
        if keep_spatial or pad_h != pad_w:
            pad_h = pad_w = Padding.SAME
            out_h = (h + stride_h - 1) // stride_h
            out_w = (w + stride_w - 1) // stride_w
        padding = pad_h
        if padding == Padding.VALID:
            out_h = (h + stride_h - ((kh - 1) * dil_h + 1)) // stride_h
            out_w = (w + stride_w - ((kw - 1) * dil_w + 1)) // stride_w
            if out_h < 1 or out_w < 1:
                padding = Padding.SAME
                out_h = (h + stride_h - 1) // stride_h
                out_w = (w + stride_w - 1) // stride_w
        act = self.activation()
        per_channel = self.rng.random() < 0.8
        if depthwise:
            dm = 1 if (same_channels or c * 2 > 16 or self.rng.random() < 0.6) else 2
            out_c = c * dm
            filt_shape = (1, kh, kw, out_c)
            qdim, depth = 3, kh * kw
        else:
            groups = 1
            if not same_channels and c % 2 == 0 and c >= 4 and self.rng.random() < 0.1:
                groups = 2
            out_c = c if same_channels else int(self.rng.integers(1, 13))
            if out_c % groups:
                out_c += groups - out_c % groups
            filt_shape = (out_c, kh, kw, c // groups)
            qdim, depth = 0, kh * kw * (c // groups)
        fscales = np.array([self.scale(0.002, 0.03) for _ in range(out_c)], dtype=np.float32)
        if not per_channel:
            fscales = fscales[:1]
        filt = self.b.add_const(self.name("filter"), self.weights(filt_shape), scale=fscales,
                                zero_point=[0] * len(fscales), quantized_dimension=qdim)
        bias = -1
        # TFLM's DEPTHWISE_CONV_2D crashes without a bias tensor (the oracle segfaults in
        # prepare), so depthwise always gets one; CONV_2D sometimes goes without.
        if depthwise or self.rng.random() < 0.85:
            bias_scales = np.resize(fscales, out_c) if not per_channel else fscales
            bias = self.bias(x.scale, bias_scales, out_c, per_channel)
        out_scale = self.accum_output_scale(x.scale, fscales, depth)
        y = self.tensor((n, out_h, out_w, out_c), out_scale, self.zero_point())
        if depthwise:
            opts = tb.DepthwiseConv2DOptions(padding, stride_w, stride_h, out_c // c, act, dil_w, dil_h)
            self.b.add_op(BuiltinOp.DEPTHWISE_CONV_2D, [x.index, filt, bias], [y.index], opts)
            self.ops.append("dwconv")
        else:
            opts = tb.Conv2DOptions(padding, stride_w, stride_h, act, dil_w, dil_h)
            self.b.add_op(BuiltinOp.CONV_2D, [x.index, filt, bias], [y.index], opts)
            self.ops.append("conv")
        return y

    def pool(self, x: _Value, kind: str) -> _Value:
        n, h, w, c = x.shape
        fh, fw = (int(v) for v in self.rng.integers(1, 4, size=2))
        sh, sw = (int(v) for v in self.rng.integers(1, 3, size=2))
        padding = Padding.SAME if (self.rng.random() < 0.5 or h < fh or w < fw) else Padding.VALID
        if padding == Padding.SAME:
            out_h, out_w = (h + sh - 1) // sh, (w + sw - 1) // sw
        else:
            out_h, out_w = (h + sh - fh) // sh, (w + sw - fw) // sw
        y = self.tensor((n, out_h, out_w, c), x.scale, x.zero_point)
        code = BuiltinOp.MAX_POOL_2D if kind == "max" else BuiltinOp.AVERAGE_POOL_2D
        self.b.add_op(code, [x.index], [y.index],
                      tb.Pool2DOptions(padding, sw, sh, fw, fh, self.activation()))
        self.ops.append(f"{kind}pool")
        return y

    def add(self, x: _Value) -> _Value:
        if self.rng.random() < 0.3:
            # Broadcast ADD of a constant over the channels (or a single value).
            shape = (1, 1, 1, x.shape[-1]) if self.rng.random() < 0.7 else (1,)
            scale = self.scale()
            zp = self.zero_point()
            other = _Value(self.b.add_const(self.name("addc"), self.weights(shape), scale=scale,
                                            zero_point=zp), shape, scale, zp)
            self.ops.append("addconst")
        else:
            other = self.conv(x, depthwise=self.rng.random() < 0.5, same_channels=True,
                              keep_spatial=True)
            self.ops.append("add")
        out_scale = float(np.float32(max(x.scale, other.scale) * math.exp(self.rng.uniform(-0.2, 0.9))))
        y = self.tensor(x.shape, out_scale, self.zero_point())
        inputs = [x.index, other.index] if self.rng.random() < 0.5 else [other.index, x.index]
        self.b.add_op(BuiltinOp.ADD, inputs, [y.index], tb.AddOptions(self.activation()))
        return y

    def requantize(self, x: _Value) -> _Value:
        y = self.tensor(x.shape, float(np.float32(x.scale * math.exp(self.rng.uniform(-1.0, 1.0)))),
                        self.zero_point())
        self.b.add_op(BuiltinOp.QUANTIZE, [x.index], [y.index], tb.QuantizeOptions())
        self.ops.append("requant")
        return y

    def mean(self, x: _Value) -> _Value:
        rank = len(x.shape)
        choice = self.rng.random()
        if rank == 4 and choice < 0.6:
            axes = [1, 2] if self.rng.random() < 0.7 else [2, 1]
        elif rank == 4 and choice < 0.8:
            axes = [int(self.rng.integers(1, 4)) - (4 if self.rng.random() < 0.3 else 0)]
        else:
            axes = [rank - 1 if self.rng.random() < 0.5 else -1]
        keep = bool(self.rng.random() < 0.4)
        resolved = sorted({a % rank for a in axes})
        shape = tuple(1 if d in resolved else s for d, s in enumerate(x.shape)) if keep else \
            tuple(s for d, s in enumerate(x.shape) if d not in resolved)
        if not shape:
            shape = (1,)
            keep = True
            shape = tuple(1 for _ in x.shape)
        if self.rng.random() < 0.3:
            scale, zp = x.scale, x.zero_point
        else:
            scale = float(np.float32(x.scale * math.exp(self.rng.uniform(-1.0, 0.5))))
            zp = self.zero_point()
        y = self.tensor(shape, scale, zp)
        axis = self.b.add_const(self.name("axis"), np.array(axes, dtype=np.int32))
        self.b.add_op(BuiltinOp.MEAN, [x.index, axis], [y.index], tb.ReducerOptions(keep))
        self.ops.append("mean")
        return y

    # --- flatten and 2-D ops -------------------------------------------------------------------

    def flatten(self, x: _Value) -> _Value:
        batch = x.shape[0]
        size = int(np.prod(x.shape[1:]))
        shape = (batch, size)
        y = self.tensor(shape, x.scale, x.zero_point)
        if len(x.shape) == 4 and x.shape[1] == 1 and x.shape[2] == 1 and self.rng.random() < 0.5:
            self.b.add_op(BuiltinOp.SQUEEZE, [x.index], [y.index], tb.SqueezeOptions([1, 2]))
            self.ops.append("squeeze")
            return y
        inputs = [x.index]
        new_shape = [-1 if self.rng.random() < 0.3 else batch, size]
        if self.rng.random() < 0.5:
            inputs.append(self.b.add_const(self.name("shape"), np.array(new_shape, dtype=np.int32)))
        self.b.add_op(BuiltinOp.RESHAPE, inputs, [y.index], tb.ReshapeOptions(new_shape))
        self.ops.append("reshape")
        return y

    def fully_connected(self, x: _Value) -> _Value:
        batch, depth = x.shape
        units = int(self.rng.integers(1, 17))
        per_channel = self.rng.random() < 0.2
        fscales = np.array([self.scale(0.002, 0.03) for _ in range(units if per_channel else 1)],
                           dtype=np.float32)
        filt = self.b.add_const(self.name("weights"), self.weights((units, depth)), scale=fscales,
                                zero_point=[0] * len(fscales), quantized_dimension=0)
        bias = -1
        if self.rng.random() < 0.85:
            bias = self.bias(x.scale, np.resize(fscales, units), units, per_channel)
        y = self.tensor((batch, units), self.accum_output_scale(x.scale, fscales, depth),
                        self.zero_point())
        self.b.add_op(BuiltinOp.FULLY_CONNECTED, [x.index, filt, bias], [y.index],
                      tb.FullyConnectedOptions(self.activation()))
        self.ops.append("fc")
        return y

    def expand_squeeze(self, x: _Value) -> _Value:
        batch, depth = x.shape
        mid = self.tensor((batch, 1, depth), x.scale, x.zero_point)
        axis = self.b.add_const(self.name("axis"), np.array([1], dtype=np.int32))
        self.b.add_op(BuiltinOp.EXPAND_DIMS, [x.index, axis], [mid.index], tb.ExpandDimsOptions())
        y = self.tensor((batch, depth), x.scale, x.zero_point)
        self.b.add_op(BuiltinOp.SQUEEZE, [mid.index], [y.index], tb.SqueezeOptions([1]))
        self.ops.append("expand-squeeze")
        return y

    def softmax(self, x: _Value) -> _Value:
        if self.rng.random() < 0.4:
            beta = 1.0
        else:
            # Aim beta * input_scale at a range where the output is neither one-hot nor flat.
            beta = float(np.float32(math.exp(self.rng.uniform(math.log(0.02), math.log(0.5))) / x.scale))
        y = self.tensor(x.shape, 1.0 / 256.0, -128)
        self.b.add_op(BuiltinOp.SOFTMAX, [x.index], [y.index], tb.SoftmaxOptions(beta))
        self.ops.append("softmax")
        return y

    def dequantize(self, x: _Value) -> _Value:
        y = self.tensor(x.shape, 0.0, 0, dtype="float32")
        self.b.add_op(BuiltinOp.DEQUANTIZE, [x.index], [y.index], tb.DequantizeOptions())
        self.ops.append("dequantize")
        return y

    def quantize_from_float(self, shape) -> tuple[_Value, _Value]:
        source = self.tensor(shape, 0.0, 0, dtype="float32")
        y = self.tensor(shape, self.scale(0.01, 0.1), self.zero_point())
        self.b.add_op(BuiltinOp.QUANTIZE, [source.index], [y.index], tb.QuantizeOptions())
        self.ops.append("quantize")
        return source, y


def _pick(rng: np.random.Generator, table):
    """The first entry of ((threshold, choice), ...) whose threshold exceeds one draw; None past
    the last."""
    r = rng.random()
    return next((choice for threshold, choice in table if r < threshold), None)


def _random_chain(g: "_Gen") -> GeneratedModel:
    """The chain both generators build, their op mixes from the generator's class tables: an
    entry, 1-4 ops of the 4-D stage, MEAN or a flatten, FULLY_CONNECTED layers, EXPAND_DIMS /
    SQUEEZE, a requantize, a late MEAN, and a tail op."""
    rng = g.rng
    if rng.random() < 0.15:
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 33)))
    else:
        shape = (1 if rng.random() < 0.85 else 2, int(rng.integers(1, 11)), int(rng.integers(1, 11)),
                 int(rng.integers(1, 9)))
    entry = _pick(rng, g.ENTRIES)
    if entry is not None:
        graph_input, x = entry(g, shape)
    else:
        graph_input = x = g.tensor(shape, g.scale(0.005, 0.1) / g.INPUT_SCALE_DIVISOR, g.zero_point())

    if len(x.shape) == 4:
        for _ in range(int(rng.integers(1, 5))):
            x = _pick(rng, g.STAGE_OPS)(g, x)
        r = rng.random()
        if r < 0.3:
            x = g.mean(x)
        elif r < 0.85:
            x = g.flatten(x)
    if len(x.shape) == 2:
        for _ in range(int(rng.integers(0, 3))):
            x = g.fully_connected(x)
        if rng.random() < 0.15:
            x = g.expand_squeeze(x)
        if rng.random() < 0.15:
            x = g.requantize(x)
        x = g.late_mean(x)
    tail = _pick(rng, g.TAIL_OPS)
    if tail is not None:
        x = tail(g, x)
    if not g.ops:
        x = g.requantize(x)
    return GeneratedModel(g.seed, g.b.build(inputs=[graph_input.index], outputs=[x.index]), g.ops)


def random_model(seed: int) -> GeneratedModel:
    """One random model; deterministic in `seed`."""
    return _random_chain(_Gen(seed))


def random_inputs(rng: np.random.Generator, dtype: np.dtype, shape) -> np.ndarray:
    """Random input for one tensor: full-range int8 or int16, or floats spanning a few units."""
    if np.dtype(dtype) == np.float32:
        return (rng.standard_normal(shape) * 3.0).astype(np.float32)
    if np.dtype(dtype) == np.int16:
        return rng.integers(-32768, 32768, size=shape, dtype=np.int16)
    return rng.integers(-128, 128, size=shape, dtype=np.int8)
