"""ctypes wrapper over the host build of the portable engine.

    engine = HostEngine(model_bytes)
    output = engine.invoke(input_array)          # one input, one output
    outputs = engine.invoke_all([a, b])          # every input, list of outputs
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from harness.engine.build import build_library
from harness.errors import ModelError

MAX_DIMS = 6
_DTYPES = {0: np.dtype("<f4"), 2: np.dtype("<i4"), 7: np.dtype("<i2"), 9: np.dtype("i1")}

STATUS_NAMES = ["OK", "NULL_ARG", "TRUNCATED", "BAD_IDENTIFIER", "BAD_OFFSET", "BAD_VERSION",
                "BAD_MODEL", "UNSUPPORTED_OP", "UNSUPPORTED_TYPE", "BAD_QUANTIZATION",
                "ARENA_TOO_SMALL", "LIMIT", "BAD_ARGUMENT", "NOT_LOADED", "INVOKE"]


class _Error(ctypes.Structure):
    _fields_ = [("status", ctypes.c_int), ("op_index", ctypes.c_int32),
                ("tensor_index", ctypes.c_int32), ("detail", ctypes.c_int32),
                ("needed", ctypes.c_uint32), ("given", ctypes.c_uint32)]


class _Engine(ctypes.Structure):
    _fields_ = [("impl", ctypes.c_void_p), ("arena_used", ctypes.c_uint32), ("error", _Error)]


class _TensorInfo(ctypes.Structure):
    _fields_ = [("dtype", ctypes.c_int), ("rank", ctypes.c_uint8),
                ("dims", ctypes.c_int32 * MAX_DIMS), ("scale", ctypes.c_float),
                ("zero_point", ctypes.c_int32), ("bytes", ctypes.c_uint32)]


class EngineError(ModelError):
    """The engine refused a model or a call. Fields mirror hil_error_t."""

    def __init__(self, status: int, op_index: int = -1, tensor_index: int = -1, detail: int = 0,
                 needed: int = 0, given: int = 0, path: str | None = None):
        self.status = status
        self.status_name = STATUS_NAMES[status] if 0 <= status < len(STATUS_NAMES) else "UNKNOWN"
        self.op_index = op_index
        self.tensor_index = tensor_index
        self.detail = detail
        self.needed = needed
        self.given = given
        where = []
        if op_index >= 0:
            where.append(f"operator {op_index}")
        if tensor_index >= 0:
            where.append(f"tensor {tensor_index}")
        extra = f", needs {needed} arena bytes, given {given}" if self.status_name == "ARENA_TOO_SMALL" else ""
        super().__init__(f"engine refused the model: {self.status_name}"
                         + (f" at {', '.join(where)}" if where else "")
                         + f" (detail {detail}){extra}", path)


@dataclass(frozen=True)
class TensorInfo:
    dtype: np.dtype
    shape: tuple[int, ...]
    scale: float
    zero_point: int
    nbytes: int


_LIBS: dict[str, ctypes.CDLL] = {}


def load_library(path: Path | None = None) -> ctypes.CDLL:
    """Open (building first if needed) the engine shared library; cached per path."""
    path = Path(path) if path is not None else build_library("release")
    key = str(path)
    if key not in _LIBS:
        lib = ctypes.CDLL(key)
        lib.hil_engine_load.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p,
                                        ctypes.c_size_t, ctypes.POINTER(_Engine)]
        lib.hil_engine_load.restype = ctypes.c_int
        for name in ("hil_engine_input_info", "hil_engine_output_info"):
            fn = getattr(lib, name)
            fn.argtypes = [ctypes.POINTER(_Engine), ctypes.c_int, ctypes.POINTER(_TensorInfo)]
            fn.restype = ctypes.c_int
        for name in ("hil_engine_input_count", "hil_engine_output_count"):
            getattr(lib, name).argtypes = [ctypes.POINTER(_Engine)]
            getattr(lib, name).restype = ctypes.c_int
        lib.hil_engine_set_input.argtypes = [ctypes.POINTER(_Engine), ctypes.c_int, ctypes.c_void_p,
                                             ctypes.c_size_t]
        lib.hil_engine_set_input.restype = ctypes.c_int
        lib.hil_engine_get_output.argtypes = [ctypes.POINTER(_Engine), ctypes.c_int,
                                              ctypes.c_void_p, ctypes.c_size_t]
        lib.hil_engine_get_output.restype = ctypes.c_int
        lib.hil_engine_invoke.argtypes = [ctypes.POINTER(_Engine)]
        lib.hil_engine_invoke.restype = ctypes.c_int
        lib.hil_engine_name.restype = ctypes.c_char_p
        lib.hil_status_name.argtypes = [ctypes.c_int]
        lib.hil_status_name.restype = ctypes.c_char_p
        _LIBS[key] = lib
    return _LIBS[key]


class HostEngine:
    """The portable engine on the host, holding its own copy of the model and its arena."""

    def __init__(self, model_bytes: bytes, arena_size: int = 512 * 1024,
                 library: Path | None = None, path: str | None = None):
        self._lib = load_library(library)
        self._model = ctypes.create_string_buffer(bytes(model_bytes), len(model_bytes))
        # 16-byte aligned arena, so arena_used does not depend on where the allocator put it.
        self._arena_block = ctypes.create_string_buffer(arena_size + 16)
        arena = ctypes.addressof(self._arena_block)
        arena += (-arena) % 16
        self._engine = _Engine()
        status = self._lib.hil_engine_load(self._model, len(model_bytes), arena, arena_size,
                                           ctypes.byref(self._engine))
        if status != 0:
            err = self._engine.error
            raise EngineError(status, err.op_index, err.tensor_index, err.detail, err.needed,
                              err.given, path)
        self.inputs = [self._info(self._lib.hil_engine_input_info, i)
                       for i in range(self._lib.hil_engine_input_count(ctypes.byref(self._engine)))]
        self.outputs = [self._info(self._lib.hil_engine_output_info, i)
                        for i in range(self._lib.hil_engine_output_count(ctypes.byref(self._engine)))]

    @property
    def arena_used(self) -> int:
        return int(self._engine.arena_used)

    @property
    def name(self) -> str:
        return self._lib.hil_engine_name().decode()

    def _info(self, fn, index: int) -> TensorInfo:
        info = _TensorInfo()
        self._check(fn(ctypes.byref(self._engine), index, ctypes.byref(info)))
        return TensorInfo(_DTYPES[info.dtype], tuple(info.dims[: info.rank]), float(info.scale),
                          int(info.zero_point), int(info.bytes))

    def _check(self, status: int) -> None:
        if status != 0:
            raise EngineError(status)

    def invoke_all(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        if len(inputs) != len(self.inputs):
            raise ValueError(f"model has {len(self.inputs)} inputs, got {len(inputs)}")
        for index, (array, info) in enumerate(zip(inputs, self.inputs)):
            data = np.ascontiguousarray(array, dtype=info.dtype)
            if data.size * data.itemsize != info.nbytes:
                raise ValueError(f"input {index} has {data.size} elements; the model expects shape {info.shape}")
            self._check(self._lib.hil_engine_set_input(ctypes.byref(self._engine), index,
                                                       data.ctypes.data, info.nbytes))
        self._check(self._lib.hil_engine_invoke(ctypes.byref(self._engine)))
        results = []
        for index, info in enumerate(self.outputs):
            out = np.empty(info.shape, dtype=info.dtype)
            self._check(self._lib.hil_engine_get_output(ctypes.byref(self._engine), index,
                                                        out.ctypes.data, info.nbytes))
            results.append(out)
        return results

    def run(self) -> None:
        """Invoke once on the inputs already set (no copies; for timing)."""
        self._check(self._lib.hil_engine_invoke(ctypes.byref(self._engine)))

    def invoke(self, input_array: np.ndarray) -> np.ndarray:
        """Single-input, single-output convenience."""
        return self.invoke_all([input_array])[0]
