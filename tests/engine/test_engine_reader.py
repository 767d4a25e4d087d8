"""The model reader refuses bad models with the error code naming the first problem, and
plans the arena it reports."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from harness.engine import tflite_builder as tb
from harness.engine.host import EngineError, HostEngine
from harness.engine.tflite_builder import Activation, BuiltinOp, ModelBuilder, Padding


def fc_model(input_dtype="int8", extra_tensor_dtype=None, version=tb.SCHEMA_VERSION) -> bytes:
    b = ModelBuilder()
    quant = None if input_dtype == "float32" else 0.05
    x = b.add_tensor("x", (1, 8), input_dtype, scale=quant, zero_point=None if quant is None else -3)
    w = b.add_const("w", np.arange(-16, 16, dtype=np.int8).reshape(4, 8), scale=0.01, zero_point=0)
    bias = b.add_const("b", np.array([1, -2, 3, -4], np.int32), scale=0.0005, zero_point=0)
    y = b.add_tensor("y", (1, 4), "int8", scale=0.1, zero_point=2)
    if extra_tensor_dtype is not None:
        b.add_tensor("extra", (3,), extra_tensor_dtype, scale=1.0, zero_point=0)
    b.add_op(BuiltinOp.FULLY_CONNECTED, [x, w, bias], [y], tb.FullyConnectedOptions(Activation.RELU))
    return b.build(inputs=[x], outputs=[y], version=version)


def load_error(model: bytes, arena_size: int = 256 * 1024) -> EngineError:
    with pytest.raises(EngineError) as info:
        HostEngine(model, arena_size=arena_size)
    return info.value


def test_valid_model_loads_and_runs():
    engine = HostEngine(fc_model())
    assert engine.name == "portable"
    out = engine.invoke(np.arange(8, dtype=np.int8).reshape(1, 8))
    assert out.dtype == np.int8 and out.shape == (1, 4)


@pytest.mark.parametrize("length", range(0, 8))
def test_shorter_than_a_header_is_truncated(length):
    assert load_error(fc_model()[:length]).status_name == "TRUNCATED"


def test_every_truncation_is_refused_without_crashing():
    """Cutting into any table, vector or constant is refused; only the alignment padding after
    the last constant may go (the builder 16-byte aligns constant data)."""
    model = fc_model()
    x = np.arange(8, dtype=np.int8).reshape(1, 8)
    expected = HostEngine(model).invoke(x)
    names = set()
    for length in range(8, len(model)):
        try:
            engine = HostEngine(model[:length])
        except EngineError as e:
            names.add(e.status_name)
            continue
        assert length > len(model) - 16, f"a model cut to {length}/{len(model)} bytes loaded"
        np.testing.assert_array_equal(engine.invoke(x), expected)
    assert names == {"TRUNCATED", "BAD_OFFSET"} or names == {"BAD_OFFSET"}, names


def test_wrong_file_identifier():
    model = bytearray(fc_model())
    model[4:8] = b"TFL2"
    err = load_error(bytes(model))
    assert err.status_name == "BAD_IDENTIFIER" and err.detail == 4


def test_root_offset_past_the_end():
    model = bytearray(fc_model())
    model[0:4] = struct.pack("<I", len(model) + 100)
    assert load_error(bytes(model)).status_name == "TRUNCATED"


def test_vtable_outside_the_model_is_a_bad_offset():
    model = bytearray(fc_model())
    root = struct.unpack_from("<I", model, 0)[0]
    struct.pack_into("<i", model, root, -0x100000)  # vtable = root + 1 MiB
    err = load_error(bytes(model))
    assert err.status_name == "BAD_OFFSET" and err.detail == root


def test_vector_longer_than_the_model_is_a_bad_offset():
    model = bytearray(fc_model())
    # The input tensor's shape vector [1, 8]: its count word precedes two int32s 1, 8.
    at = model.find(struct.pack("<III", 2, 1, 8))
    assert at > 0
    struct.pack_into("<I", model, at, 0x3FFFFFFF)
    assert load_error(bytes(model)).status_name == "BAD_OFFSET"


def test_every_corrupted_word_is_refused_or_runs():
    """Overwrite each 4-byte word with hostile values: loading never crashes, and whatever
    loads still invokes."""
    model = fc_model()
    statuses = set()
    for at in range(0, len(model) - 3, 4):
        for value in (0xFFFFFFFF, 0x7FFFFFF0, 0x80000000, 0x00000001):
            corrupted = bytearray(model)
            struct.pack_into("<I", corrupted, at, value)
            try:
                engine = HostEngine(bytes(corrupted), arena_size=64 * 1024)
            except EngineError as e:
                statuses.add(e.status_name)
                continue
            engine.invoke_all([np.zeros(info.shape, info.dtype) for info in engine.inputs])
            statuses.add("OK")
    assert {"BAD_OFFSET", "OK"} <= statuses


def test_schema_version_other_than_3():
    err = load_error(fc_model(version=2))
    assert err.status_name == "BAD_VERSION" and err.detail == 2


@pytest.mark.parametrize("code", [BuiltinOp.LOGISTIC, 32, 150])  # LOGISTIC, CUSTOM, > 127
def test_unsupported_op_names_the_op_and_its_index(code):
    b = ModelBuilder()
    x = b.add_tensor("x", (1, 4), "int8", scale=0.1, zero_point=0)
    y = b.add_tensor("y", (1, 4), "int8", scale=0.1, zero_point=0)
    z = b.add_tensor("z", (1, 4), "int8", scale=1 / 256, zero_point=-128)
    b.add_op(BuiltinOp.QUANTIZE, [x], [y], tb.QuantizeOptions())
    b.add_op(code, [y], [z])
    err = load_error(b.build([x], [z]))
    assert err.status_name == "UNSUPPORTED_OP"
    assert err.op_index == 1 and err.detail == int(code)


def test_float_input_to_an_int8_kernel_is_an_unsupported_type():
    err = load_error(fc_model(input_dtype="float32"))
    assert err.status_name == "UNSUPPORTED_TYPE"
    assert err.op_index == 0 and err.tensor_index == 0 and err.detail == tb.TensorType.FLOAT32


@pytest.mark.parametrize("dtype", ["uint8"])  # int16 (16x8) and int64 (their biases) are known
def test_tensor_of_an_unknown_type_is_refused(dtype):
    err = load_error(fc_model(extra_tensor_dtype=dtype))
    assert err.status_name == "UNSUPPORTED_TYPE"
    assert err.tensor_index == 4 and err.detail == tb.DTYPES[dtype]


def test_arena_too_small_reports_needed_and_given():
    model = fc_model()
    used = HostEngine(model).arena_used
    err = load_error(model, arena_size=used - 1)
    assert err.status_name == "ARENA_TOO_SMALL"
    assert err.needed == used and err.given == used - 1
    HostEngine(model, arena_size=used)  # exactly enough


def test_arena_too_small_for_the_tables_gives_an_upper_bound():
    model = fc_model()
    used = HostEngine(model).arena_used
    err = load_error(model, arena_size=64)
    assert err.status_name == "ARENA_TOO_SMALL"
    assert err.given == 64 and err.needed >= used


def test_planner_reuses_memory_of_dead_tensors():
    """A chain of 8 requantizations of 1000 bytes needs two live buffers, not eight."""
    b = ModelBuilder()
    prev = x = b.add_tensor("x", (1, 1000), "int8", scale=0.1, zero_point=0)
    for i in range(8):
        nxt = b.add_tensor(f"t{i}", (1, 1000), "int8", scale=0.1 * (1.1 ** (i + 1)), zero_point=i)
        b.add_op(BuiltinOp.QUANTIZE, [prev], [nxt], tb.QuantizeOptions())
        prev = nxt
    engine = HostEngine(b.build([x], [prev]))
    assert 2 * 1000 < engine.arena_used < 3 * 1000 + 2048


def test_output_shape_that_does_not_fit_the_conv_is_refused():
    b = ModelBuilder()
    x = b.add_tensor("x", (1, 6, 6, 2), "int8", scale=0.1, zero_point=0)
    w = b.add_const("w", np.ones((3, 3, 3, 2), np.int8), scale=[0.01] * 3, zero_point=[0] * 3)
    y = b.add_tensor("y", (1, 5, 6, 3), "int8", scale=0.2, zero_point=0)  # SAME gives 6x6
    b.add_op(BuiltinOp.CONV_2D, [x, w, -1], [y], tb.Conv2DOptions(Padding.SAME, 1, 1))
    err = load_error(b.build([x], [y]))
    assert err.status_name == "BAD_MODEL" and err.op_index == 0 and err.tensor_index == y


def test_softmax_output_quantization_must_be_tflites():
    b = ModelBuilder()
    x = b.add_tensor("x", (1, 10), "int8", scale=0.1, zero_point=0)
    y = b.add_tensor("y", (1, 10), "int8", scale=1 / 128, zero_point=-128)
    b.add_op(BuiltinOp.SOFTMAX, [x], [y], tb.SoftmaxOptions(1.0))
    err = load_error(b.build([x], [y]))
    assert err.status_name == "BAD_QUANTIZATION" and err.tensor_index == y


def test_int8_activation_without_quantization_is_refused():
    b = ModelBuilder()
    x = b.add_tensor("x", (1, 4), "int8")  # no scale / zero point
    y = b.add_tensor("y", (1, 4), "int8", scale=0.1, zero_point=0)
    b.add_op(BuiltinOp.ADD, [x, x], [y], tb.AddOptions())
    err = load_error(b.build([x], [y]))
    assert err.status_name == "BAD_QUANTIZATION" and err.tensor_index == x


def test_tensor_read_before_it_is_written_is_refused():
    b = ModelBuilder()
    x = b.add_tensor("x", (1, 4), "int8", scale=0.1, zero_point=0)
    orphan = b.add_tensor("orphan", (1, 4), "int8", scale=0.1, zero_point=0)
    y = b.add_tensor("y", (1, 4), "int8", scale=0.1, zero_point=0)
    b.add_op(BuiltinOp.ADD, [x, orphan], [y], tb.AddOptions())
    err = load_error(b.build([x], [y]))
    assert err.status_name == "BAD_MODEL" and err.tensor_index == orphan


def test_wrong_input_length_is_refused():
    engine = HostEngine(fc_model())
    with pytest.raises(ValueError):
        engine.invoke(np.zeros((1, 9), np.int8))


@pytest.mark.parametrize("dilation,stride", [(1 << 30, 1), (1, 1 << 30)])
def test_window_beyond_int32_indexing_is_refused(dilation, stride):
    """Found by fuzzing (tests/fuzz/regressions/fuzz_model_reader/crash-*): a dilation of 2^30
    overflowed the conv kernel's int32 input index."""
    b = ModelBuilder()
    x = b.add_tensor("x", (1, 4, 4, 1), "int8", scale=0.1, zero_point=0)
    w = b.add_const("w", np.ones((1, 2, 2, 1), np.int8), scale=[0.01], zero_point=[0])
    out = (4 + stride - 1) // stride
    y = b.add_tensor("y", (1, out, out, 1), "int8", scale=0.2, zero_point=0)
    b.add_op(BuiltinOp.CONV_2D, [x, w, -1], [y],
             tb.Conv2DOptions(Padding.SAME, stride, stride, dilation_w=dilation, dilation_h=dilation))
    err = load_error(b.build([x], [y]))
    assert err.status_name == "BAD_MODEL" and err.op_index == 0
