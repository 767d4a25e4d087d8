"""Seeded random 16x8 TFLite models (int16 activations, int8 weights, int64 or int32 bias) for
the bit-exactness tests and fuzz corpora: random_models.py's generator and chain with 16x8
quantization and op mix."""

from __future__ import annotations

import math

import numpy as np

from engine_support.random_models import GeneratedModel, _Gen, _random_chain, _Value
from harness.engine import tflite_builder as tb
from harness.engine.tflite_builder import BuiltinOp

INT16_INPUT_STD = 15000.0  # spread of an int16 activation the scales below aim at


class _Gen16(_Gen):
    """The int8 generator's graph shapes with 16x8 quantization, as the TFLite converter's
    EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 op set emits it: int16 tensors
    with zero point 0, int8 symmetric weights, int64 biases. A few CONV_2D / FULLY_CONNECTED get
    an int32 bias (or none and quantized_bias_type INT32), the other accumulator TFLM has."""

    ENTRIES = ((0.1, lambda g, shape: g.quantize_from_float(shape)), (0.2, lambda g, shape: g.from_int8(shape)))
    INPUT_SCALE_DIVISOR = 256.0
    STAGE_OPS = ((0.35, lambda g, x: g.conv(x)), (0.6, lambda g, x: g.conv(x, depthwise=True)),
                 (0.72, lambda g, x: g.pool(x, "max")), (0.84, lambda g, x: g.pool(x, "avg")),
                 (math.inf, lambda g, x: g.requantize(x)))
    TAIL_OPS = ((0.4, lambda g, x: g.softmax(x)), (0.5, lambda g, x: g.dequantize(x)),
                (0.6, lambda g, x: g.to_int8(x)))

    def zero_point(self) -> int:
        return 0

    def late_mean(self, x: _Value) -> _Value:
        return self.mean(x) if self.rng.random() < 0.15 and x.shape[1] > 1 else x

    def tensor(self, shape, scale, zp, dtype="int16") -> _Value:
        return super().tensor(shape, scale, zp, dtype)

    def accum_output_scale(self, in_scale: float, filter_scales: np.ndarray, depth: int) -> float:
        sigma = in_scale * float(np.mean(filter_scales)) * 73.0 * INT16_INPUT_STD * math.sqrt(depth)
        return float(np.float32(3.0 * sigma / 32767.0 * math.exp(self.rng.uniform(-0.7, 0.7))))

    def bias(self, in_scale: float, filter_scales: np.ndarray, channels: int, per_channel: bool):
        self.narrow_bias = self.rng.random() < 0.15
        values = self.rng.integers(-3000 * 256, 3000 * 256 + 1, size=channels)
        scales = (np.float32(in_scale) * filter_scales.astype(np.float32)).astype(np.float32)
        if not per_channel:
            scales = scales[:1]
        values = values.astype(np.int32 if self.narrow_bias else np.int64)
        return self.b.add_const(self.name("bias"), values, scale=scales,
                                zero_point=[0] * len(scales), quantized_dimension=0)

    def _narrow_accumulator(self, option_slot: int) -> None:
        """TFLM's int16 CONV_2D / FULLY_CONNECTED accumulate in int32 with an INT32 bias, or
        without a bias when the options say quantized_bias_type INT32; depthwise never does."""
        op = self.b.operators[-1]
        if op.inputs[2] >= 0 and self.b.tensors[op.inputs[2]].dtype == tb.TensorType.INT32:
            self.ops.append("int32bias")
        elif op.inputs[2] < 0 and self.rng.random() < 0.3:
            op.options.fields.append((option_slot, "i8", int(tb.TensorType.INT32), 0))
            self.ops.append("int32bias")

    def conv(self, x: _Value, depthwise: bool = False, same_channels: bool = False,
             keep_spatial: bool = False) -> _Value:
        self.narrow_bias = False
        if depthwise:  # TFLM reads a depthwise int16 bias as int64 whatever its type
            y = super().conv(x, depthwise, same_channels, keep_spatial)
            bias = self.b.operators[-1].inputs[2]
            if self.b.tensors[bias].dtype == tb.TensorType.INT32:
                self._widen_bias(bias)
            return y
        y = super().conv(x, depthwise, same_channels, keep_spatial)
        self._narrow_accumulator(6)
        return y

    def _widen_bias(self, bias_index: int) -> None:
        tensor = self.b.tensors[bias_index]
        values = np.frombuffer(self.b.buffers[tensor.buffer], dtype="<i4").astype("<i8")
        self.b.buffers[tensor.buffer] = values.tobytes()
        tensor.dtype = tb.TensorType.INT64

    def fully_connected(self, x: _Value) -> _Value:
        self.narrow_bias = False
        y = super().fully_connected(x)
        self._narrow_accumulator(4)
        return y

    def softmax(self, x: _Value) -> _Value:
        if self.rng.random() < 0.3:
            beta = 1.0
        else:
            # beta * input_scale * (a typical code difference) of a few units.
            beta = float(np.float32(math.exp(self.rng.uniform(math.log(0.3), math.log(8.0)))
                                    / (x.scale * INT16_INPUT_STD)))
        y = self.tensor(x.shape, 1.0 / 32768.0, 0)
        self.b.add_op(BuiltinOp.SOFTMAX, [x.index], [y.index], tb.SoftmaxOptions(beta))
        self.ops.append("softmax")
        return y

    def quantize_from_float(self, shape) -> tuple[_Value, _Value]:
        source = self.tensor(shape, 0.0, 0, dtype="float32")
        y = self.tensor(shape, self.scale(0.01, 0.1) / 256.0, 0)
        self.b.add_op(BuiltinOp.QUANTIZE, [source.index], [y.index], tb.QuantizeOptions())
        self.ops.append("quantize")
        return source, y

    def from_int8(self, shape) -> tuple[_Value, _Value]:
        """An int8 graph input requantized to int16 (a mixed graph's entry)."""
        source = super().tensor(shape, self.scale(0.005, 0.1), super().zero_point(), "int8")
        y = self.tensor(shape, float(np.float32(source.scale / 256.0 * math.exp(self.rng.uniform(-0.5, 0.5)))), 0)
        self.b.add_op(BuiltinOp.QUANTIZE, [source.index], [y.index], tb.QuantizeOptions())
        self.ops.append("int8-to-int16")
        return source, y

    def to_int8(self, x: _Value) -> _Value:
        y = super().tensor(x.shape, float(np.float32(x.scale * 256.0 * math.exp(self.rng.uniform(-0.7, 0.3)))),
                           super().zero_point(), "int8")
        self.b.add_op(BuiltinOp.QUANTIZE, [x.index], [y.index], tb.QuantizeOptions())
        self.ops.append("int16-to-int8")
        return y


def random_model_16x8(seed: int) -> GeneratedModel:
    """One random 16x8 model; deterministic in `seed`. The int8 generator's chains without ADD
    (TFLM's int16 ADD is not in the portable engine), with int16 entries and exits: an int16
    input, QUANTIZE from float or from int8, and SOFTMAX, DEQUANTIZE or a QUANTIZE to int8."""
    return _random_chain(_Gen16(seed))
