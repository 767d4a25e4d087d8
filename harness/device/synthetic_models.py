"""Small INT8 models shaped like the container-vibration classifier, for device tests and
benchmarks when no trained model (fixtures/models/*.tflite) is at hand.

``window_classifier``: input (1, window_len, 1, channels) int8 -> CONV_2D (k x 1, stride 2, ReLU)
-> DEPTHWISE_CONV_2D (3 x 1) -> MEAN over time -> FULLY_CONNECTED -> SOFTMAX; seeded weights.
``arena_hog``: a valid model whose activations need more than ``arena_bytes``.
``unsupported_op_model``: a valid file with an operator the engines do not implement (TANH).
"""

from __future__ import annotations

import math

import numpy as np

from harness.engine import tflite_builder as tb
from harness.engine.tflite_builder import Activation, BuiltinOp, ModelBuilder, Padding

TANH = 28  # BuiltinOperator code; neither engine implements it


def _f32(value: float) -> float:
    return float(np.float32(value))


def _conv(b: ModelBuilder, rng, x: int, in_scale: float, in_channels: int, out_channels: int,
          out_shape, kernel: int, stride: int, name: str) -> tuple[int, float]:
    filter_scales = np.full(out_channels, 0.01, dtype=np.float32) * \
        rng.uniform(0.5, 1.5, out_channels).astype(np.float32)
    weights = rng.integers(-127, 128, size=(out_channels, kernel, 1, in_channels), dtype=np.int8)
    filt = b.add_const(f"{name}_w", weights, scale=filter_scales, zero_point=[0] * out_channels,
                       quantized_dimension=0)
    bias = b.add_const(f"{name}_b", rng.integers(-2000, 2001, size=out_channels).astype(np.int32),
                       scale=(np.float32(in_scale) * filter_scales).astype(np.float32),
                       zero_point=[0] * out_channels)
    out_scale = _f32(3 * in_scale * 0.01 * 73 * 60 * math.sqrt(kernel * in_channels) / 127)
    y = b.add_tensor(f"{name}_out", out_shape, "int8", out_scale, -128)
    b.add_op(BuiltinOp.CONV_2D, [x, filt, bias], [y],
             tb.Conv2DOptions(Padding.SAME, 1, stride, Activation.RELU))
    return y, out_scale


def window_classifier(channels: int = 3, window_len: int = 128, classes: int = 3, seed: int = 0,
                      filters: int = 8, kernel: int = 5, input_scale: float = 1.0 / 128,
                      input_zero_point: int = 0, beta: float = 0.2) -> bytes:
    """A seeded conv -> depthwise -> mean -> fc -> softmax classifier over one window.

    ``beta`` 0.2 keeps the softmax off its rails for scaled sensor windows, so the outputs vary
    from window to window (a one-hot output would make output comparisons weak)."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder(f"window classifier {channels}ch x {window_len}, seed {seed}")
    x = b.add_tensor("window", (1, window_len, 1, channels), "int8", _f32(input_scale), input_zero_point)
    steps = (window_len + 1) // 2
    conv, conv_scale = _conv(b, rng, x, input_scale, channels, filters, (1, steps, 1, filters), kernel, 2,
                             "conv")
    dw_scales = (np.full(filters, 0.02, dtype=np.float32) * rng.uniform(0.5, 1.5, filters)).astype(np.float32)
    dw_w = b.add_const("dw_w", rng.integers(-127, 128, size=(1, 3, 1, filters), dtype=np.int8),
                       scale=dw_scales, zero_point=[0] * filters, quantized_dimension=3)
    dw_b = b.add_const("dw_b", rng.integers(-500, 501, size=filters).astype(np.int32),
                       scale=(np.float32(conv_scale) * dw_scales).astype(np.float32), zero_point=[0] * filters)
    dw_scale = _f32(conv_scale * 0.02 * 73 * 3)
    dw = b.add_tensor("dw_out", (1, steps, 1, filters), "int8", dw_scale, 0)
    b.add_op(BuiltinOp.DEPTHWISE_CONV_2D, [conv, dw_w, dw_b], [dw],
             tb.DepthwiseConv2DOptions(Padding.SAME, 1, 1, 1, Activation.NONE))
    axes = b.add_const("mean_axes", np.array([1, 2], dtype=np.int32))
    pooled = b.add_tensor("pooled", (1, filters), "int8", _f32(dw_scale / 4), 0)
    b.add_op(BuiltinOp.MEAN, [dw, axes], [pooled], tb.ReducerOptions(False))
    fc_scale = np.array([0.02], dtype=np.float32)
    fc_w = b.add_const("fc_w", rng.integers(-127, 128, size=(classes, filters), dtype=np.int8),
                       scale=fc_scale, zero_point=[0])
    fc_b = b.add_const("fc_b", rng.integers(-300, 301, size=classes).astype(np.int32),
                       scale=np.float32(dw_scale / 4) * fc_scale, zero_point=[0])
    logits_scale = _f32(dw_scale / 4 * 0.02 * 73 * 3 * math.sqrt(filters) / 2)
    logits = b.add_tensor("logits", (1, classes), "int8", logits_scale, 0)
    b.add_op(BuiltinOp.FULLY_CONNECTED, [pooled, fc_w, fc_b], [logits], tb.FullyConnectedOptions())
    probs = b.add_tensor("probs", (1, classes), "int8", 1.0 / 256, -128)
    b.add_op(BuiltinOp.SOFTMAX, [logits], [probs], tb.SoftmaxOptions(beta))
    return b.build(inputs=[x], outputs=[probs])


def arena_hog(arena_bytes: int, channels: int = 3, window_len: int = 128) -> bytes:
    """A window model whose first activation alone is larger than ``arena_bytes``."""
    filters = arena_bytes // window_len + 8
    rng = np.random.default_rng(1)
    b = ModelBuilder("arena hog")
    x = b.add_tensor("window", (1, window_len, 1, channels), "int8", 1.0 / 128, 0)
    y, _ = _conv(b, rng, x, 1.0 / 128, channels, filters, (1, window_len, 1, filters), 1, 1, "wide")
    return b.build(inputs=[x], outputs=[y])


def unsupported_op_model(channels: int = 3, window_len: int = 128) -> bytes:
    """A well-formed model with TANH, which the engine refuses (UNSUPPORTED_OP, op 0)."""
    b = ModelBuilder("unsupported op")
    x = b.add_tensor("window", (1, window_len, 1, channels), "int8", 1.0 / 128, 0)
    y = b.add_tensor("tanh", (1, window_len, 1, channels), "int8", 1.0 / 128, 0)
    b.add_op(TANH, [x], [y])
    return b.build(inputs=[x], outputs=[y])
