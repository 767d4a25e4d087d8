"""Fixtures for the quantization tests: the installed TFLite Micro runtime as an oracle."""

from __future__ import annotations

import numpy as np
import pytest


def _one_op_model(op_name: str, length: int, scale: float, zero_point: int) -> bytes:
    """A .tflite flatbuffer with a single QUANTIZE (float32 -> int8) or DEQUANTIZE op."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    op = getattr(fb.BuiltinOperator, op_name)
    float_type, int8_type = fb.TensorType.FLOAT32, fb.TensorType.INT8
    in_type, out_type = (float_type, int8_type) if op_name == "QUANTIZE" else (int8_type, float_type)

    def tensor(name, tensor_type, buffer):
        t = fb.TensorT()
        t.shape, t.type, t.buffer, t.name = [1, length], tensor_type, buffer, name
        if tensor_type == int8_type:
            q = fb.QuantizationParametersT()
            q.scale, q.zeroPoint = [scale], [zero_point]
            t.quantization = q
        return t

    model = fb.ModelT()
    model.version = 3
    code = fb.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode, code.version = op, min(op, 127), 1
    model.operatorCodes = [code]
    model.buffers = [fb.BufferT(), fb.BufferT(), fb.BufferT()]
    subgraph = fb.SubGraphT()
    subgraph.tensors = [tensor("input", in_type, 1), tensor("output", out_type, 2)]
    subgraph.inputs, subgraph.outputs = [0], [1]
    operator = fb.OperatorT()
    operator.opcodeIndex, operator.inputs, operator.outputs = 0, [0], [1]
    subgraph.operators = [operator]
    model.subgraphs = [subgraph]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@pytest.fixture(scope="session")
def tflm_kernel():
    """``run(op_name, values, scale, zero_point)`` through the TFLM reference kernels."""
    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")
    pytest.importorskip("flatbuffers")

    def run(op_name: str, values, scale: float, zero_point: int) -> np.ndarray:
        values = np.asarray(values)
        dtype = np.float32 if op_name == "QUANTIZE" else np.int8
        flat = values.astype(dtype).reshape(1, -1)
        interpreter = runtime.Interpreter.from_bytes(
            _one_op_model(op_name, flat.shape[1], scale, zero_point),
            arena_size=16 * flat.size + 16384)  # two tensors plus bookkeeping
        interpreter.set_input(flat, 0)
        interpreter.invoke()
        return np.asarray(interpreter.get_output(0)).reshape(values.shape)

    return run
