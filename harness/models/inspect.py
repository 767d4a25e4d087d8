"""Read what the harness needs from a ``.tflite`` file without TensorFlow.

A minimal, bounds-checked reader of the TFLite flatbuffer (schema ``TFL3``): operator codes, the
operators of each subgraph, and the input/output tensors with their quantization. It never trusts
an offset or a vector length before checking it against the file size, so a truncated file or
random bytes give a :class:`~harness.errors.ModelError` naming the file, not an ``IndexError``
or a loop over garbage.

Field numbers follow ``tensorflow/lite/schema/schema.fbs``; a table field ``i`` sits at vtable
offset ``4 + 2 * i``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import ModelError

FILE_IDENTIFIER = b"TFL3"

# BuiltinOperator codes (schema.fbs). Only the ones the harness names; others print as BUILTIN_<n>
# unless tflite_micro's generated schema is importable.
_OP_NAMES = {
    0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D",
    6: "DEQUANTIZE", 9: "FULLY_CONNECTED", 14: "LOGISTIC", 17: "MAX_POOL_2D", 18: "MUL",
    19: "RELU", 21: "RELU6", 22: "RESHAPE", 25: "SOFTMAX", 28: "TANH", 40: "MEAN", 43: "SQUEEZE",
    70: "EXPAND_DIMS", 114: "QUANTIZE",
}

# TensorType (schema.fbs) -> numpy dtype name.
_TENSOR_TYPES = {
    0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 5: "string", 6: "bool",
    7: "int16", 8: "complex64", 9: "int8", 10: "float64", 11: "complex128", 12: "uint64",
    15: "uint32", 16: "uint16", 17: "int4", 18: "bfloat16",
}


def op_name(code: int) -> str:
    """Name of a BuiltinOperator code, e.g. 3 -> 'CONV_2D'."""
    if code in _OP_NAMES:
        return _OP_NAMES[code]
    try:  # tflite-micro ships the generated schema; use it for the rare names not listed above
        from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema
        for name, value in vars(schema.BuiltinOperator).items():
            if value == code and not name.startswith("_"):
                return name
    except ImportError:
        pass
    return f"BUILTIN_{code}"


@dataclass(frozen=True)
class TensorInfo:
    """An input or output tensor: what a caller needs to quantize into it or read from it."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: float | None          # None when the tensor is not quantized
    zero_point: int | None

    def to_dict(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype,
                "scale": self.scale, "zero_point": self.zero_point}


@dataclass(frozen=True)
class ModelInfo:
    """What a ``.tflite`` holds, as far as the harness cares."""

    path: str
    size_bytes: int
    ops: tuple[str, ...]                 # distinct operator names, in order of first use
    op_counts: dict[str, int]
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    tensor_dtypes: tuple[str, ...]       # dtype of every tensor in subgraph 0

    @property
    def input(self) -> TensorInfo:
        return self.inputs[0]

    @property
    def output(self) -> TensorInfo:
        return self.outputs[0]


class _Reader:
    """Bounds-checked access to flatbuffer tables, vectors and scalars."""

    def __init__(self, buf: bytes, path: str):
        self.buf = buf
        self.path = path

    def fail(self, what: str) -> ModelError:
        return ModelError(f"not a valid TFLite flatbuffer ({what}); the file may be truncated "
                          f"or not a .tflite at all", self.path)

    def _unpack(self, fmt: str, pos: int):
        size = struct.calcsize(fmt)
        if pos < 0 or pos + size > len(self.buf):
            raise self.fail(f"offset {pos} + {size} beyond end of file at {len(self.buf)} bytes")
        return struct.unpack_from(fmt, self.buf, pos)[0]

    def u32(self, pos: int) -> int:
        return self._unpack("<I", pos)

    def deref(self, pos: int) -> int:
        """Follow the uoffset stored at ``pos``."""
        return pos + self.u32(pos)

    def field_pos(self, table: int, field: int) -> int | None:
        """Absolute position of a table field's value, or None if absent (default)."""
        vtable = table - self._unpack("<i", table)
        vtable_size = self._unpack("<H", vtable)
        slot = 4 + 2 * field
        if slot + 2 > vtable_size:
            return None
        offset = self._unpack("<H", vtable + slot)
        return table + offset if offset else None

    def scalar(self, table: int, field: int, fmt: str, default):
        pos = self.field_pos(table, field)
        return default if pos is None else self._unpack("<" + fmt, pos)

    def table(self, table: int, field: int) -> int | None:
        pos = self.field_pos(table, field)
        return None if pos is None else self.deref(pos)

    def vector(self, table: int, field: int, elem_size: int) -> tuple[int, int]:
        """(start, length) of a vector field; (0, 0) if absent."""
        pos = self.field_pos(table, field)
        if pos is None:
            return 0, 0
        vec = self.deref(pos)
        length = self.u32(vec)
        start = vec + 4
        if start + length * elem_size > len(self.buf):
            raise self.fail(f"vector of {length} elements at {vec} runs past the end of the file")
        return start, length

    def tables(self, table: int, field: int) -> list[int]:
        start, length = self.vector(table, field, 4)
        return [self.deref(start + 4 * i) for i in range(length)]

    def scalars(self, table: int, field: int, fmt: str) -> list:
        size = struct.calcsize("<" + fmt)
        start, length = self.vector(table, field, size)
        return [self._unpack("<" + fmt, start + size * i) for i in range(length)]

    def string(self, table: int, field: int) -> str:
        start, length = self.vector(table, field, 1)
        return self.buf[start:start + length].decode("utf-8", errors="replace")


def _tensor_info(r: _Reader, tensor: int) -> TensorInfo:
    shape = tuple(r.scalars(tensor, 0, "i"))
    type_code = r.scalar(tensor, 1, "b", 0)
    name = r.string(tensor, 3)
    scale = zero_point = None
    quant = r.table(tensor, 4)
    if quant is not None:
        scales = r.scalars(quant, 2, "f")
        zero_points = r.scalars(quant, 3, "q")
        if scales:
            scale = float(np.float32(scales[0]))
            zero_point = int(zero_points[0]) if zero_points else 0
    return TensorInfo(name, shape, _TENSOR_TYPES.get(type_code, f"type{type_code}"), scale,
                      zero_point)


def read_model_info(source: str | Path | bytes, path: str | None = None) -> ModelInfo:
    """Parse a ``.tflite`` (a path or its bytes). Raises ModelError naming the file."""
    if isinstance(source, (str, Path)):
        path = str(source)
        try:
            buf = Path(source).read_bytes()
        except OSError as e:
            raise ModelError(f"cannot read model file: {e.strerror}", path) from e
    else:
        buf = bytes(source)
        path = path or "<bytes>"
    if len(buf) < 8 or buf[4:8] != FILE_IDENTIFIER:
        head = buf[:8].hex(" ") if buf else "empty file"
        raise ModelError(f"not a TFLite flatbuffer: no '{FILE_IDENTIFIER.decode()}' identifier "
                         f"at byte 4 (first bytes: {head})", path)
    r = _Reader(buf, path)
    try:
        model = r.deref(0)
        opcodes = []
        for opcode in r.tables(model, 1):
            deprecated = r.scalar(opcode, 0, "b", 0)
            builtin = r.scalar(opcode, 3, "i", 0)
            code = max(deprecated, builtin)
            custom = r.string(opcode, 1)
            opcodes.append(f"CUSTOM:{custom}" if custom else op_name(code))
        subgraphs = r.tables(model, 2)
        if not subgraphs:
            raise r.fail("model has no subgraph")
        # Every buffer's data must lie inside the file: this is what catches a truncated model.
        for buffer in r.tables(model, 4):
            r.vector(buffer, 0, 1)
            offset = r.scalar(buffer, 1, "Q", 0)
            size = r.scalar(buffer, 2, "Q", 0)
            if offset > 1 and offset + size > len(buf):
                raise r.fail(f"buffer at offset {offset} of {size} bytes runs past the end")
        ops: list[str] = []
        counts: dict[str, int] = {}
        for subgraph in subgraphs:
            for operator in r.tables(subgraph, 3):
                index = r.scalar(operator, 0, "I", 0)
                if index >= len(opcodes):
                    raise r.fail(f"operator uses opcode {index} of {len(opcodes)}")
                name = opcodes[index]
                if name not in counts:
                    ops.append(name)
                counts[name] = counts.get(name, 0) + 1
        main = subgraphs[0]
        tensors = r.tables(main, 0)

        def pick(indices: list[int]) -> tuple[TensorInfo, ...]:
            for i in indices:
                if not 0 <= i < len(tensors):
                    raise r.fail(f"tensor index {i} of {len(tensors)}")
            return tuple(_tensor_info(r, tensors[i]) for i in indices)

        inputs = pick(r.scalars(main, 1, "i"))
        outputs = pick(r.scalars(main, 2, "i"))
        dtypes = tuple(_TENSOR_TYPES.get(r.scalar(t, 1, "b", 0), "unknown") for t in tensors)
    except ModelError:
        raise
    except (struct.error, ValueError, IndexError, UnicodeDecodeError) as e:
        raise r.fail(str(e)) from e
    if not inputs or not outputs:
        raise ModelError("model has no input or no output tensor", path)
    return ModelInfo(path=path, size_bytes=len(buf), ops=tuple(ops), op_counts=counts,
                     inputs=inputs, outputs=outputs, tensor_dtypes=dtypes)
