"""16x8 bit-exactness: the portable engine's int16 kernels (int16 activations, int8 weights, int64
or int32 bias) against TFLM's reference kernels (tflite_micro), and the refusals and arena
accounting that go with them.

RANDOM_16X8_MODEL_COUNT seeded random 16x8 models (HIL_ENGINE_RANDOM_16X8_MODELS, default 250)
run on 3 random full-range inputs each through both; committed 16x8 models are picked up by
test_engine_bit_exact.py like every other committed model. Failures name the op chain.
"""

from __future__ import annotations

import numpy as np
import pytest
from engine_cases import FIXTURE_MODELS, RANDOM_16X8_SEEDS, assert_generated_ops, generated
from test_engine_bit_exact import check_generated_model, check_model
from test_engine_kernel_paths import reference_library  # noqa: F401 (a fixture)

from harness.engine import tflite_builder as tb
from harness.engine.host import EngineError, HostEngine
from harness.engine.tflite_builder import Activation, BuiltinOp, ModelBuilder, Padding

LUT_BYTES = 2 * 513 * 2  # the exp and 1/(1+x) tables of one int16 SOFTMAX


@pytest.mark.parametrize("seed", RANDOM_16X8_SEEDS)
def test_random_16x8_model_is_bit_exact(seed):
    check_generated_model(seed)


def test_random_16x8_models_cover_every_int16_kernel():
    assert_generated_ops(RANDOM_16X8_SEEDS, {
        "conv", "dwconv", "fc", "maxpool", "avgpool", "mean", "reshape", "squeeze", "expand-squeeze",
        "softmax", "requant", "quantize", "dequantize", "int32bias", "int8-to-int16", "int16-to-int8"})


def test_random_16x8_models_are_16x8(tmp_path):
    """Every generated model has int16 activations and only int64/int32 biases beside int8 weights."""
    from harness.models.inspect import read_model_info

    for seed in list(RANDOM_16X8_SEEDS)[:50]:
        path = tmp_path / f"seed{seed}.tflite"
        path.write_bytes(generated(seed).model)
        dtypes = set(read_model_info(path).tensor_dtypes)
        assert "int16" in dtypes, f"seed {seed}: no int16 tensor"
        assert dtypes <= {"int8", "int16", "int32", "int64", "float32"}, f"seed {seed}: {dtypes}"


def test_engine_reports_int16_input_quantization_like_the_oracle():
    from tflite_micro import runtime

    seed = next(s for s in RANDOM_16X8_SEEDS if HostEngine(generated(s).model).inputs[0].dtype == np.int16)
    model = generated(seed).model
    details = runtime.Interpreter.from_bytes(model, arena_size=4 << 20).get_input_details(0)
    info = HostEngine(model).inputs[0]
    assert info.dtype == np.dtype("<i2") == np.dtype(details["dtype"])
    assert info.shape == tuple(int(d) for d in details["shape"])
    assert info.scale == float(details["quantization_parameters"]["scales"][0])
    assert info.zero_point == 0 == int(details["quantization_parameters"]["zero_points"][0])
    assert info.nbytes == 2 * int(np.prod(info.shape))


COMMITTED_16X8 = [p for p in FIXTURE_MODELS if "16x8" in p.stem]


@pytest.mark.skipif(not COMMITTED_16X8, reason="no committed 16x8 model in fixtures/models yet")
@pytest.mark.parametrize("path", COMMITTED_16X8, ids=[p.stem for p in COMMITTED_16X8])
def test_committed_16x8_model_runs_int16(path):
    engine = check_model(path.read_bytes(), 16, path.name)
    assert engine.inputs[0].dtype == np.int16 and engine.inputs[0].zero_point == 0
    print(f"{path.name}: arena {engine.arena_used} bytes")


# --- hand-made models: refusals and arena accounting ---------------------------------------------

def softmax_model(dtype: str, depth: int = 10, out_scale: float | None = None) -> bytes:
    b = ModelBuilder()
    wide = dtype == "int16"
    x = b.add_tensor("x", (1, depth), dtype, scale=0.001 if wide else 0.1, zero_point=0)
    y = b.add_tensor("y", (1, depth), dtype, scale=out_scale or (1 / 32768 if wide else 1 / 256),
                     zero_point=0 if wide else -128)
    b.add_op(BuiltinOp.SOFTMAX, [x], [y], tb.SoftmaxOptions(1.0))
    return b.build([x], [y])


def conv_model(bias_dtype=np.int64, depthwise=False, input_zp=0, filter_dtype=np.int8) -> bytes:
    b = ModelBuilder()
    x = b.add_tensor("x", (1, 4, 4, 2), "int16", scale=0.001, zero_point=input_zp)
    shape = (1, 3, 3, 2) if depthwise else (2, 3, 3, 2)
    w = b.add_const("w", np.ones(shape, filter_dtype), scale=[0.01, 0.02], zero_point=[0, 0],
                    quantized_dimension=3 if depthwise else 0)
    bias = b.add_const("b", np.array([5, -7], bias_dtype), scale=[1e-5, 2e-5], zero_point=[0, 0])
    y = b.add_tensor("y", (1, 4, 4, 2), "int16", scale=0.002, zero_point=0)
    if depthwise:
        b.add_op(BuiltinOp.DEPTHWISE_CONV_2D, [x, w, bias], [y],
                 tb.DepthwiseConv2DOptions(Padding.SAME, 1, 1, 1, Activation.RELU))
    else:
        b.add_op(BuiltinOp.CONV_2D, [x, w, bias], [y], tb.Conv2DOptions(Padding.SAME, 1, 1, Activation.RELU))
    return b.build([x], [y])


def load_error(model: bytes) -> EngineError:
    with pytest.raises(EngineError) as info:
        HostEngine(model)
    return info.value


def test_int16_softmax_keeps_its_two_luts_in_the_arena():
    """Same graph at int8 and int16: the int16 one needs twice the activation bytes plus the
    two 513-entry LUTs TFLM's prepare allocates."""
    depth = 64  # 64 and 128 bytes: both multiples of the planner's 16-byte alignment
    int8 = HostEngine(softmax_model("int8", depth)).arena_used
    int16 = HostEngine(softmax_model("int16", depth)).arena_used
    assert int16 - int8 == 2 * depth + LUT_BYTES + 12  # + the LUT block's alignment to 16


def test_int16_softmax_matches_the_oracle_on_extreme_rows():
    from engine_cases import oracle_run

    model = softmax_model("int16", depth=10)
    rows = np.array([[32767] * 10, [-32768] * 10, [32767] + [-32768] * 9, list(range(-5, 5)),
                     [0, 1, 2, 3, 30000, -30000, 7, 7, 7, 7]], dtype=np.int16)
    engine = HostEngine(model)
    for row in rows:
        x = row.reshape(1, 10)
        assert np.array_equal(engine.invoke(x), oracle_run(model, [x])[0]), row


def test_int16_tensor_with_a_zero_point_is_refused():
    err = load_error(conv_model(input_zp=3))
    assert err.status_name == "BAD_QUANTIZATION" and err.tensor_index == 0 and err.detail == 3


def test_int16_depthwise_needs_an_int64_bias():
    """TFLM's int16 depthwise reads the bias as int64 whatever its type (an int32 one would be
    read past its end), so only INT64 is accepted; CONV_2D takes INT32 (int32 accumulator)."""
    err = load_error(conv_model(np.int32, depthwise=True))
    assert err.status_name == "UNSUPPORTED_TYPE" and err.tensor_index == 2
    assert err.detail == tb.TensorType.INT32
    HostEngine(conv_model(np.int32))
    HostEngine(conv_model(np.int64, depthwise=True))


def test_int16_softmax_output_scale_must_be_1_over_32768():
    err = load_error(softmax_model("int16", out_scale=1 / 256))
    assert err.status_name == "BAD_QUANTIZATION" and err.op_index == 0


def test_int16_add_is_an_unsupported_type():
    b = ModelBuilder()
    x = b.add_tensor("x", (1, 4), "int16", scale=0.001, zero_point=0)
    y = b.add_tensor("y", (1, 4), "int16", scale=0.002, zero_point=0)
    b.add_op(BuiltinOp.ADD, [x, x], [y], tb.AddOptions())
    err = load_error(b.build([x], [y]))
    assert err.status_name == "UNSUPPORTED_TYPE" and err.op_index == 0 and err.detail == tb.TensorType.INT16


def test_int16_input_with_int16_weights_is_refused():
    err = load_error(conv_model(filter_dtype=np.int16))
    assert err.status_name == "UNSUPPORTED_TYPE" and err.tensor_index == 1


# --- the same kernels under AddressSanitizer + UBSan ---------------------------------------------

ASAN_16X8_MODELS = 40


@pytest.fixture(scope="module")
def asan_runner():
    import shutil

    from harness.engine.build import build_runner

    if shutil.which("cc") is None:
        pytest.skip("no host C compiler (cc)")
    return build_runner("asan")


@pytest.mark.parametrize("seed", list(RANDOM_16X8_SEEDS)[:ASAN_16X8_MODELS])
def test_sanitized_16x8_kernels_match_release_build(asan_runner, tmp_path, seed):
    from test_engine_asan import assert_sanitized_run_matches_release_build

    assert_sanitized_run_matches_release_build(asan_runner, tmp_path, seed)


def test_sanitized_engine_refuses_corrupted_16x8_models_cleanly(asan_runner, tmp_path):
    """Byte flips in 16x8 models (int64 biases, int16 LUT softmax): OK or a named refusal, never
    a sanitizer report."""
    from test_engine_asan import assert_corruptions_end_cleanly

    seeds = [s for s in list(RANDOM_16X8_SEEDS)[:40] if "softmax" in generated(s).ops][:5]
    assert len(seeds) == 5
    assert_corruptions_end_cleanly(asan_runner, tmp_path, [generated(seed).model for seed in seeds], 20,
                                   np.random.default_rng(16), 8192)


def big_window_model(depthwise: bool, bias_dtype) -> bytes:
    """A window of 576 taps (3x3x64, or a 24x24 depthwise): past the 511 products the kernels
    may sum in int32, so they take the int64 per-tap path (or TFLM's wrapping int32 one)."""
    rng = np.random.default_rng(576)
    b = ModelBuilder()
    if depthwise:
        weights = rng.integers(-128, 128, (1, 24, 24, 2), dtype=np.int8)
        weights[..., 0] = 127  # one channel of same-sign weights: its sum passes 2^31
        x = b.add_tensor("x", (1, 24, 24, 2), "int16", scale=0.0005, zero_point=0)
        w = b.add_const("w", weights, scale=[0.01, 0.02],
                        zero_point=[0, 0], quantized_dimension=3)
        y = b.add_tensor("y", (1, 1, 1, 2), "int16", scale=0.5, zero_point=0)
        bias = b.add_const("b", np.array([123456, -654321], bias_dtype), scale=[5e-6, 1e-5], zero_point=[0, 0])
        b.add_op(BuiltinOp.DEPTHWISE_CONV_2D, [x, w, bias], [y],
                 tb.DepthwiseConv2DOptions(Padding.VALID, 1, 1, 1))
    else:
        weights = rng.integers(-128, 128, (4, 3, 3, 64), dtype=np.int8)
        weights[0], weights[1] = 127, -128  # same-sign channels: their sums pass 2^31
        x = b.add_tensor("x", (1, 3, 3, 64), "int16", scale=0.0005, zero_point=0)
        w = b.add_const("w", weights, scale=[0.01] * 4,
                        zero_point=[0] * 4, quantized_dimension=0)
        y = b.add_tensor("y", (1, 3, 3, 4), "int16", scale=0.5, zero_point=0)
        bias = b.add_const("b", np.array([123456, -654321, 7, -7], bias_dtype), scale=[5e-6] * 4,
                           zero_point=[0] * 4)
        b.add_op(BuiltinOp.CONV_2D, [x, w, bias], [y], tb.Conv2DOptions(Padding.SAME, 1, 1))
    return b.build([x], [y])


@pytest.mark.parametrize("depthwise,bias_dtype", [(False, np.int64), (False, np.int32), (True, np.int64)],
                         ids=["conv-int64", "conv-int32", "depthwise-int64"])
def test_int16_window_over_511_products_is_bit_exact(depthwise, bias_dtype):
    """Saturated inputs (+-32767, -32768) against same-sign weights drive the sums to their
    extremes: past 2^31 for the int64 kernels, wrapping for TFLM's int32 accumulator."""
    from engine_cases import oracle_run

    model = big_window_model(depthwise, bias_dtype)
    engine = HostEngine(model)
    rng = np.random.default_rng(7)
    shape = engine.inputs[0].shape
    for x in (np.full(shape, 32767, np.int16), np.full(shape, -32768, np.int16),
              rng.integers(-32768, 32768, shape, dtype=np.int16)):
        got, expected = engine.invoke(x), oracle_run(model, [x])[0]
        assert np.array_equal(got, expected), (got.ravel()[:8], expected.ravel()[:8])
    assert len(np.unique(got)) > 1


def conv1d_model(stride: int, bias_dtype, padding=Padding.SAME, channels: int = 3) -> bytes:
    """(1, 20, 1, C) through a 7x1 filter: the contiguous 1-D path (the committed models' shape),
    windows clipped at both ends, odd lengths for the dual-MAC tail."""
    rng = np.random.default_rng(stride * 10 + channels)
    b = ModelBuilder()
    x = b.add_tensor("x", (1, 20, 1, channels), "int16", scale=0.0005, zero_point=0)
    w = b.add_const("w", rng.integers(-128, 128, (5, 7, 1, channels), dtype=np.int8),
                    scale=[0.01, 0.02, 0.005, 0.03, 0.01], zero_point=[0] * 5, quantized_dimension=0)
    bias = b.add_const("b", rng.integers(-50000, 50000, 5).astype(bias_dtype), scale=[5e-6] * 5,
                       zero_point=[0] * 5)
    out_h = (20 + stride - 1) // stride if padding == Padding.SAME else (20 - 7) // stride + 1
    y = b.add_tensor("y", (1, out_h, 1, 5), "int16", scale=0.02, zero_point=0)
    b.add_op(BuiltinOp.CONV_2D, [x, w, bias], [y], tb.Conv2DOptions(padding, 1, stride, Activation.RELU6))
    return b.build([x], [y])


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("bias_dtype", [np.int64, np.int32], ids=["int64", "int32"])
@pytest.mark.parametrize("padding", [Padding.SAME, Padding.VALID], ids=["same", "valid"])
def test_int16_1d_conv_is_bit_exact(stride, bias_dtype, padding):
    from engine_cases import oracle_run

    for channels in (1, 3, 4):
        model = conv1d_model(stride, bias_dtype, padding, channels)
        engine = HostEngine(model)
        rng = np.random.default_rng(channels)
        for _ in range(3):
            x = rng.integers(-32768, 32768, engine.inputs[0].shape, dtype=np.int16)
            assert np.array_equal(engine.invoke(x), oracle_run(model, [x])[0])


def test_reference_only_build_gives_the_same_16x8_bytes(reference_library):
    """PE_REFERENCE_KERNELS leaves the 16x8 fast paths out too (the 1-D dual-MAC CONV_2D); the
    generic loops give the same bytes on every random 16x8 model."""
    from engine_support.random_models import random_inputs

    for seed in RANDOM_16X8_SEEDS:
        model = generated(seed).model
        fast = HostEngine(model)
        slow = HostEngine(model, library=reference_library)
        rng = np.random.default_rng(seed)
        inputs = [random_inputs(rng, info.dtype, info.shape) for info in fast.inputs]
        for a, b in zip(fast.invoke_all(inputs), slow.invoke_all(inputs)):
            assert np.array_equal(a, b), generated(seed).name
