"""Write the hand-made regression inputs of the fuzz targets (run from the repo root):

    python tests/fuzz/make_regressions.py

Inputs found by fuzzing are committed next to these as crash-<sha1> / timeout-<sha1>, as
libFuzzer names them; the hand-made ones pin the checks a fuzzer needs many hours to reach.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from harness.engine import tflite_builder as tb  # noqa: E402
from harness.engine.tflite_builder import BuiltinOp, ModelBuilder, Padding  # noqa: E402
from harness.link.frame import Frame, encode_frame  # noqa: E402

OUT = Path(__file__).resolve().parent / "regressions"


def fc(inputs_override=None, opcode_index=None) -> bytes:
    b = ModelBuilder()
    x = b.add_tensor("x", (1, 8), "int8", scale=0.05, zero_point=-3)
    w = b.add_const("w", np.arange(-16, 16, dtype=np.int8).reshape(4, 8), scale=0.01, zero_point=0)
    y = b.add_tensor("y", (1, 4), "int8", scale=0.1, zero_point=2)
    b.add_op(BuiltinOp.FULLY_CONNECTED, inputs_override or [x, w, -1], [y], tb.FullyConnectedOptions())
    if opcode_index is not None:
        b.operators[0].opcode_index = opcode_index
    return b.build([x], [y])


def conv(stride=1, bias=True, depthwise=False) -> bytes:
    b = ModelBuilder()
    x = b.add_tensor("x", (1, 4, 4, 2), "int8", scale=0.1, zero_point=0)
    channels = 2
    shape = (1, 3, 3, channels) if depthwise else (channels, 3, 3, 2)
    w = b.add_const("w", np.ones(shape, np.int8), scale=[0.01] * channels, zero_point=[0] * channels,
                    quantized_dimension=3 if depthwise else 0)
    bi = b.add_const("b", np.ones(channels, np.int32), scale=[0.001] * channels,
                     zero_point=[0] * channels) if bias else -1
    y = b.add_tensor("y", (1, 4, 4, channels), "int8", scale=0.2, zero_point=0)
    if depthwise:
        b.add_op(BuiltinOp.DEPTHWISE_CONV_2D, [x, w, bi], [y],
                 tb.DepthwiseConv2DOptions(Padding.SAME, stride, stride, 1))
    else:
        b.add_op(BuiltinOp.CONV_2D, [x, w, bi], [y], tb.Conv2DOptions(Padding.SAME, stride, stride))
    return b.build([x], [y])


def mean_axis(axis: int) -> bytes:
    b = ModelBuilder()
    x = b.add_tensor("x", (1, 3, 3, 2), "int8", scale=0.1, zero_point=0)
    a = b.add_const("axis", np.array([axis], np.int32))
    y = b.add_tensor("y", (1, 2), "int8", scale=0.1, zero_point=0)
    b.add_op(BuiltinOp.MEAN, [x, a], [y], tb.ReducerOptions(False))
    return b.build([x], [y])


def softmax(scale: float) -> bytes:
    b = ModelBuilder()
    x = b.add_tensor("x", (2, 5), "int8", scale=scale, zero_point=0)
    y = b.add_tensor("y", (2, 5), "int8", scale=1 / 256, zero_point=-128)
    b.add_op(BuiltinOp.SOFTMAX, [x], [y], tb.SoftmaxOptions(1.0))
    return b.build([x], [y])


def const_output() -> bytes:
    b = ModelBuilder()
    x = b.add_tensor("x", (1, 4), "int8", scale=0.1, zero_point=0)
    c = b.add_const("c", np.zeros((1, 4), np.int8), scale=0.1, zero_point=0)
    b.add_op(BuiltinOp.RESHAPE, [x], [c], tb.ReshapeOptions([1, 4]))
    return b.build([x], [c])


def conv16(bias_dtype=np.int64, depthwise=False, input_zp=0, filter_scale=0.01) -> bytes:
    """A 16x8 convolution: int16 activations, int8 weights, int64 (or int32) bias."""
    b = ModelBuilder()
    x = b.add_tensor("x", (1, 4, 4, 2), "int16", scale=0.001, zero_point=input_zp)
    shape = (1, 3, 3, 2) if depthwise else (2, 3, 3, 2)
    w = b.add_const("w", np.ones(shape, np.int8), scale=[filter_scale] * 2, zero_point=[0, 0],
                    quantized_dimension=3 if depthwise else 0)
    bi = b.add_const("b", np.array([5, -7], bias_dtype), scale=[1e-5, 1e-5], zero_point=[0, 0])
    y = b.add_tensor("y", (1, 4, 4, 2), "int16", scale=0.002, zero_point=0)
    if depthwise:
        b.add_op(BuiltinOp.DEPTHWISE_CONV_2D, [x, w, bi], [y], tb.DepthwiseConv2DOptions(Padding.SAME, 1, 1, 1))
    else:
        b.add_op(BuiltinOp.CONV_2D, [x, w, bi], [y], tb.Conv2DOptions(Padding.SAME, 1, 1))
    return b.build([x], [y])


def softmax16(depth: int) -> bytes:
    b = ModelBuilder()
    x = b.add_tensor("x", (1, depth), "int16", scale=0.001, zero_point=0)
    y = b.add_tensor("y", (1, depth), "int16", scale=1 / 32768, zero_point=0)
    b.add_op(BuiltinOp.SOFTMAX, [x], [y], tb.SoftmaxOptions(1.0))
    return b.build([x], [y])


def patched(model: bytes, find: bytes, replace: bytes) -> bytes:
    at = model.find(find)
    assert at >= 0
    return model[:at] + replace + model[at + len(replace):]


def main() -> None:
    models = OUT / "fuzz_model_reader"
    frames = OUT / "fuzz_frame_decoder"
    models.mkdir(parents=True, exist_ok=True)
    frames.mkdir(parents=True, exist_ok=True)
    base = fc()
    root = struct.unpack_from("<I", base, 0)[0]
    vtable_out = bytearray(base)
    struct.pack_into("<i", vtable_out, root, -0x7FFFFFF0)
    inputs = {
        "handcrafted-short-header.bin": base[:5],
        "handcrafted-vtable-outside.tflite": bytes(vtable_out),
        "handcrafted-huge-shape-vector.tflite": patched(base, struct.pack("<III", 2, 1, 8),
                                                        struct.pack("<I", 0x3FFFFFFF)),
        "handcrafted-negative-tensor-index.tflite": fc(inputs_override=[0, -5, -1]),
        "handcrafted-opcode-index-out-of-range.tflite": fc(opcode_index=9),
        "handcrafted-conv-stride-zero.tflite": conv(stride=0),
        "handcrafted-depthwise-without-bias.tflite": conv(bias=False, depthwise=True),
        "handcrafted-mean-axis-out-of-range.tflite": mean_axis(7),
        "handcrafted-softmax-shift-31.tflite": softmax(200.0),
        "handcrafted-write-into-constant.tflite": const_output(),
        # 16x8: the int64 requantization's shift range, the depthwise int64-only bias, int16 zero
        # points, the int16 softmax's LUTs and its sum-of-exps limit.
        "handcrafted-16x8-conv-shift-out-of-range.tflite": conv16(filter_scale=1e6),
        "handcrafted-16x8-depthwise-int32-bias.tflite": conv16(np.int32, depthwise=True),
        "handcrafted-16x8-int16-zero-point.tflite": conv16(input_zp=5),
        "handcrafted-16x8-conv-int32-bias.tflite": conv16(np.int32),
        "handcrafted-16x8-softmax.tflite": softmax16(10),
        "handcrafted-16x8-softmax-too-deep.tflite": softmax16(65537),
    }
    for name, data in inputs.items():
        (models / name).write_bytes(data)
    good = encode_frame(Frame(type=3, seq=1, payload=b"hello"))
    bad_crc = bytearray(good)
    bad_crc[3] ^= 0x55
    frame_inputs = {
        "handcrafted-empty.bin": b"",
        "handcrafted-only-delimiters.bin": b"\x00" * 64,
        "handcrafted-oversize.bin": encode_frame(Frame(type=1, seq=2, payload=bytes(300))),
        "handcrafted-bad-crc.bin": bytes(bad_crc),
        "handcrafted-cobs-code-past-end.bin": b"\xff\x01\x02\x00",
        "handcrafted-good-then-garbage.bin": good + b"\x05\x00\x00\x07",
    }
    for name, data in frame_inputs.items():
        (frames / name).write_bytes(data)


if __name__ == "__main__":
    main()
