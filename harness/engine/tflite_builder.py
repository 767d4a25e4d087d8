"""A small writer of TFLite flatbuffers (schema version 3), enough for INT8 test models.

Written against the TFLite schema's field ids (tensorflow/lite/schema/schema.fbs); no
TensorFlow needed. Typical use::

    b = ModelBuilder()
    x = b.add_tensor("x", (1, 8), "int8", scale=0.05, zero_point=-3)
    w = b.add_const("w", np.ones((4, 8), np.int8), scale=0.01, zero_point=0)
    y = b.add_tensor("y", (1, 4), "int8", scale=0.1, zero_point=0)
    b.add_op(BuiltinOp.FULLY_CONNECTED, [x, w, -1], [y], FullyConnectedOptions())
    model_bytes = b.build(inputs=[x], outputs=[y])
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Sequence

import flatbuffers
import numpy as np

SCHEMA_VERSION = 3
FILE_IDENTIFIER = b"TFL3"


class BuiltinOp(enum.IntEnum):
    """BuiltinOperator codes (schema.fbs)."""

    ADD = 0
    AVERAGE_POOL_2D = 1
    CONV_2D = 3
    DEPTHWISE_CONV_2D = 4
    DEQUANTIZE = 6
    FULLY_CONNECTED = 9
    LOGISTIC = 14
    MAX_POOL_2D = 17
    RESHAPE = 22
    SOFTMAX = 25
    MEAN = 40
    SQUEEZE = 43
    EXPAND_DIMS = 70
    QUANTIZE = 114


class TensorType(enum.IntEnum):
    FLOAT32 = 0
    INT32 = 2
    UINT8 = 3
    INT64 = 4
    INT16 = 7
    INT8 = 9


class Activation(enum.IntEnum):
    NONE = 0
    RELU = 1
    RELU_N1_TO_1 = 2
    RELU6 = 3


class Padding(enum.IntEnum):
    SAME = 0
    VALID = 1


DTYPES = {"int8": TensorType.INT8, "int32": TensorType.INT32, "float32": TensorType.FLOAT32,
          "int16": TensorType.INT16, "uint8": TensorType.UINT8, "int64": TensorType.INT64}
NUMPY_DTYPES = {TensorType.INT8: np.int8, TensorType.INT32: np.int32,
                TensorType.FLOAT32: np.float32, TensorType.INT16: np.int16,
                TensorType.UINT8: np.uint8, TensorType.INT64: np.int64}


# --- builtin options: (union type id, fields as (slot, kind, value, default)) -------------

@dataclass
class Options:
    """A BuiltinOptions table: `union_type` is the BuiltinOptions union index."""

    union_type: int
    fields: list[tuple[int, str, object, object]] = field(default_factory=list)


def Conv2DOptions(padding=Padding.SAME, stride_w=1, stride_h=1, activation=Activation.NONE,
                  dilation_w=1, dilation_h=1) -> Options:
    return Options(1, [(0, "i8", int(padding), 0), (1, "i32", stride_w, 0), (2, "i32", stride_h, 0),
                       (3, "i8", int(activation), 0), (4, "i32", dilation_w, 1),
                       (5, "i32", dilation_h, 1)])


def DepthwiseConv2DOptions(padding=Padding.SAME, stride_w=1, stride_h=1, depth_multiplier=1,
                           activation=Activation.NONE, dilation_w=1, dilation_h=1) -> Options:
    return Options(2, [(0, "i8", int(padding), 0), (1, "i32", stride_w, 0), (2, "i32", stride_h, 0),
                       (3, "i32", depth_multiplier, 0), (4, "i8", int(activation), 0),
                       (5, "i32", dilation_w, 1), (6, "i32", dilation_h, 1)])


def Pool2DOptions(padding=Padding.VALID, stride_w=1, stride_h=1, filter_w=1, filter_h=1,
                  activation=Activation.NONE) -> Options:
    return Options(5, [(0, "i8", int(padding), 0), (1, "i32", stride_w, 0), (2, "i32", stride_h, 0),
                       (3, "i32", filter_w, 0), (4, "i32", filter_h, 0), (5, "i8", int(activation), 0)])


def FullyConnectedOptions(activation=Activation.NONE, keep_num_dims=False) -> Options:
    return Options(8, [(0, "i8", int(activation), 0), (2, "bool", bool(keep_num_dims), False)])


def SoftmaxOptions(beta=1.0) -> Options:
    return Options(9, [(0, "f32", float(beta), 0.0)])


def AddOptions(activation=Activation.NONE) -> Options:
    return Options(11, [(0, "i8", int(activation), 0)])


def ReshapeOptions(new_shape: Sequence[int] | None = None) -> Options:
    return Options(17, [(0, "vec_i32", list(new_shape), None)] if new_shape is not None else [])


def ReducerOptions(keep_dims=False) -> Options:
    return Options(27, [(0, "bool", bool(keep_dims), False)])


def SqueezeOptions(squeeze_dims: Sequence[int] = ()) -> Options:
    return Options(30, [(0, "vec_i32", list(squeeze_dims), None)])


def DequantizeOptions() -> Options:
    return Options(38)


def ExpandDimsOptions() -> Options:
    return Options(52)


def QuantizeOptions() -> Options:
    return Options(89)


# --- model description ---------------------------------------------------------------------

@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: TensorType
    buffer: int = 0
    scale: list[float] | None = None
    zero_point: list[int] | None = None
    quantized_dimension: int = 0


@dataclass
class Operator:
    opcode_index: int
    inputs: list[int]
    outputs: list[int]
    options: Options | None


class ModelBuilder:
    """Collects tensors, constant buffers and operators, then writes one subgraph."""

    def __init__(self, description: str = "tinyml-hil test model"):
        self.description = description
        self.tensors: list[Tensor] = []
        self.buffers: list[bytes] = [b""]  # buffer 0 is the empty sentinel
        self.opcodes: list[int] = []
        self.operators: list[Operator] = []

    def add_tensor(self, name: str, shape: Sequence[int], dtype: str | TensorType = "int8",
                   scale: float | Sequence[float] | None = None,
                   zero_point: int | Sequence[int] | None = None,
                   quantized_dimension: int = 0, data: bytes | None = None) -> int:
        tensor_type = DTYPES[dtype] if isinstance(dtype, str) else TensorType(dtype)
        buffer = 0
        if data is not None:
            self.buffers.append(bytes(data))
            buffer = len(self.buffers) - 1
        scales = None if scale is None else [float(s) for s in np.atleast_1d(scale)]
        zps = None
        if zero_point is not None:
            zps = [int(z) for z in np.atleast_1d(zero_point)]
        elif scales is not None:
            zps = [0] * len(scales)
        self.tensors.append(Tensor(name, tuple(int(d) for d in shape), tensor_type, buffer, scales,
                                   zps, quantized_dimension))
        return len(self.tensors) - 1

    def add_const(self, name: str, values: np.ndarray, scale=None, zero_point=None,
                  quantized_dimension: int = 0) -> int:
        values = np.asarray(values)
        dtype = {np.dtype(np.int8): "int8", np.dtype(np.int32): "int32",
                 np.dtype(np.float32): "float32", np.dtype(np.int16): "int16",
                 np.dtype(np.int64): "int64"}[values.dtype]
        return self.add_tensor(name, values.shape, dtype, scale, zero_point, quantized_dimension,
                               data=values.astype(values.dtype.newbyteorder("<")).tobytes())

    def add_op(self, code: int, inputs: Sequence[int], outputs: Sequence[int],
               options: Options | None = None) -> int:
        code = int(code)
        if code not in self.opcodes:
            self.opcodes.append(code)
        self.operators.append(Operator(self.opcodes.index(code), list(inputs), list(outputs), options))
        return len(self.operators) - 1

    # --- serialisation --------------------------------------------------------------------

    def build(self, inputs: Sequence[int], outputs: Sequence[int],
              version: int = SCHEMA_VERSION) -> bytes:
        """Serialise; `version` other than 3 only for tests of readers that must refuse it."""
        b = flatbuffers.Builder(1024)

        buffer_offsets = []
        for data in self.buffers:
            data_vec = None
            if data:
                b.StartVector(1, len(data), 16)  # 16-byte aligned constant data, as TFLM prefers
                b.head = b.head - len(data)
                b.Bytes[b.head:b.head + len(data)] = data
                data_vec = b.EndVector()
            buffer_offsets.append(_table(b, 3, (0, "offset", data_vec)))

        tensor_offsets = []
        for t in self.tensors:
            name = b.CreateString(t.name)
            shape = _int32_vector(b, t.shape)
            quant = None
            if t.scale is not None:
                scale_vec = b.CreateNumpyVector(np.asarray(t.scale, dtype="<f4"))
                zp_vec = b.CreateNumpyVector(np.asarray(t.zero_point, dtype="<i8"))
                quant = _table(b, 7, (2, "offset", scale_vec), (3, "offset", zp_vec),
                               (6, "i32", t.quantized_dimension))
            tensor_offsets.append(_table(b, 11, (0, "offset", shape), (1, "i8", int(t.dtype)), (2, "u32", t.buffer),
                                         (3, "offset", name), (4, "offset", quant)))

        operator_offsets = []
        for op in self.operators:
            in_vec = _int32_vector(b, op.inputs)
            out_vec = _int32_vector(b, op.outputs)
            options = _write_options(b, op.options) if op.options is not None else None
            union_type = op.options.union_type if options is not None else None
            operator_offsets.append(_table(b, 14, (0, "u32", op.opcode_index), (1, "offset", in_vec),
                                           (2, "offset", out_vec), (3, "u8", union_type), (4, "offset", options)))

        subgraph = _table(b, 6, (0, "offset", _offset_vector(b, tensor_offsets)), (1, "offset", _int32_vector(b, inputs)),
                          (2, "offset", _int32_vector(b, outputs)), (3, "offset", _offset_vector(b, operator_offsets)),
                          (4, "offset", b.CreateString("main")))
        # builtin_code (deprecated int8, saturated at 127), version, builtin_code
        opcode_offsets = [_table(b, 4, (0, "i8", min(code, 127)), (2, "i32", 1), (3, "i32", code))
                          for code in self.opcodes]
        opcodes_vec = _offset_vector(b, opcode_offsets)
        subgraphs_vec = _offset_vector(b, [subgraph])
        buffers_vec = _offset_vector(b, buffer_offsets)
        description = b.CreateString(self.description)
        model = _table(b, 10, (0, "u32", version), (1, "offset", opcodes_vec), (2, "offset", subgraphs_vec),
                       (3, "offset", description), (4, "offset", buffers_vec))
        b.Finish(model, file_identifier=FILE_IDENTIFIER)
        return bytes(b.Output())


def _int32_vector(b: flatbuffers.Builder, values: Sequence[int]) -> int:
    return b.CreateNumpyVector(np.asarray(list(values), dtype="<i4"))


def _offset_vector(b: flatbuffers.Builder, offsets: Sequence[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return b.EndVector()


_PREPEND = {"offset": "PrependUOffsetTRelativeSlot", "i8": "PrependInt8Slot", "u8": "PrependUint8Slot",
            "i32": "PrependInt32Slot", "u32": "PrependUint32Slot", "f32": "PrependFloat32Slot",
            "bool": "PrependBoolSlot"}


def _table(b: flatbuffers.Builder, slots: int, *fields) -> int:
    """A table of ``slots`` slots, its fields ``(slot, kind, value[, default])`` written in the
    order given (the order decides the bytes); a None value is left out, as is a value equal to
    its default (0 unless given), as flatbuffers does."""
    b.StartObject(slots)
    for slot, kind, value, *default in fields:
        if value is not None:
            getattr(b, _PREPEND[kind])(slot, value, default[0] if default else 0)
    return b.EndObject()


def _write_options(b: flatbuffers.Builder, options: Options) -> int:
    vectors = {slot: _int32_vector(b, value) for slot, kind, value, _ in options.fields
               if kind == "vec_i32"}
    for slot, kind, *_ in options.fields:
        if kind not in _PREPEND and kind != "vec_i32":
            raise ValueError(f"unknown option field kind {kind!r}")
    return _table(b, max([slot for slot, *_ in options.fields], default=-1) + 1,
                  *((slot, "offset", vectors[slot], 0) if kind == "vec_i32" else (slot, kind, value, default)
                    for slot, kind, value, default in options.fields))
