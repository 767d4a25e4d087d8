"""The optimized kernels against the reference kernels they sit beside.

- host: a build with -DPE_REFERENCE_KERNELS (reference kernels only) and the default build
  (optimized kernels, their portable-C dual-MAC path) give the same bytes on every random and
  committed model; the default build is checked against tflite_micro in test_engine_bit_exact;
- Cortex-M4: the firmware-flags build uses the DSP path (SMLAD in the optimized CONV_2D), and on
  QEMU it gives tflite_micro's bytes on random models beyond the ones test_engine_qemu runs
  (HIL_ENGINE_DSP_QEMU_MODELS, default 60).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess

import numpy as np
import pytest
from engine_cases import FIXTURE_MODELS, QEMU, RANDOM_SEEDS, generated, oracle_case, run_on_qemu
from engine_support.qemu_selftest import build_qemu_selftest
from engine_support.random_models import random_inputs

from harness.engine.build import COMMON_FLAGS, M4_FLAGS, VARIANT_FLAGS, compile_atomically, engine_sources  # noqa: E501
from harness.engine.host import HostEngine, load_library
from harness.paths import build_root

DSP_QEMU_MODELS = int(os.environ.get("HIL_ENGINE_DSP_QEMU_MODELS", "60"))
FIRST_SEED_BEYOND_TEST_ENGINE_QEMU = 30

have_cc = shutil.which("cc") is not None
have_arm = shutil.which("arm-none-eabi-gcc") is not None and shutil.which(QEMU) is not None


@pytest.fixture(scope="module")
def reference_library():
    """libhil_engine with only the reference kernels (PE_REFERENCE_KERNELS)."""
    if not have_cc:
        pytest.skip("no host C compiler (cc)")
    output = build_root() / "engine-reference" / "libhil_engine_reference.so"
    output.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["cc", *COMMON_FLAGS, *VARIANT_FLAGS["release"], "-DPE_REFERENCE_KERNELS", "-fPIC", "-shared",
           "-o", str(output), *map(str, engine_sources()), "-lm"]
    path = compile_atomically(cmd, output, output.with_suffix(".log"))
    assert isinstance(load_library(path), ctypes.CDLL)
    return path


def _all_outputs(model: bytes, inputs, library=None) -> bytes:
    engine = HostEngine(model, arena_size=2 << 20, library=library)
    return b"".join(o.tobytes() for o in engine.invoke_all(inputs))


def _inputs(model: bytes, seed: int):
    rng = np.random.default_rng(seed)
    return [random_inputs(rng, info.dtype, info.shape) for info in HostEngine(model, arena_size=2 << 20).inputs]


def test_reference_build_differs_in_code(reference_library):
    """The two host builds really are two kernels (a test comparing a build with itself could
    not fail): only the default library has the optimized kernels."""
    reference = ctypes.CDLL(str(reference_library))
    for fast, ref in (("pe_conv_eval_fast", "pe_conv_eval"), ("pe_max_pool_eval_fast", "pe_max_pool_eval"),
                      ("pe_fully_connected_eval_fast", "pe_fully_connected_eval")):
        assert hasattr(load_library(), fast)
        assert not hasattr(reference, fast)
        assert hasattr(reference, ref)


@pytest.mark.parametrize("seed", list(RANDOM_SEEDS))
def test_optimized_kernels_match_reference_kernels(reference_library, seed):
    model = generated(seed).model
    inputs = _inputs(model, seed + 7)
    assert _all_outputs(model, inputs) == _all_outputs(model, inputs, reference_library)


@pytest.mark.parametrize("path", FIXTURE_MODELS, ids=[p.stem for p in FIXTURE_MODELS])
def test_optimized_kernels_match_reference_on_committed_models(reference_library, path):
    model = path.read_bytes()
    for seed in range(3):
        inputs = _inputs(model, seed)
        assert _all_outputs(model, inputs) == _all_outputs(model, inputs, reference_library)


@pytest.mark.skipif(not have_arm, reason="needs arm-none-eabi-gcc and qemu-system-arm")
def test_m4_build_uses_dual_macs(tmp_path):
    """With the firmware's -mcpu=cortex-m4 flags the optimized CONV_2D compiles to SMLAD."""
    source = next(s for s in engine_sources() if s.name == "conv_fast.c")
    obj = tmp_path / "conv_fast.o"
    subprocess.run(["arm-none-eabi-gcc", *COMMON_FLAGS, *M4_FLAGS, "-c", str(source), "-o", str(obj)],
                   check=True)
    disassembly = subprocess.run(["arm-none-eabi-objdump", "-d", str(obj)], check=True, capture_output=True,
                                 text=True).stdout
    assert "smlad" in disassembly


@pytest.fixture(scope="module")
def selftest_elf():
    if not have_arm:
        pytest.skip("needs arm-none-eabi-gcc and qemu-system-arm")
    return build_qemu_selftest()


@pytest.mark.parametrize("seed", list(RANDOM_SEEDS)[FIRST_SEED_BEYOND_TEST_ENGINE_QEMU:
                                                    FIRST_SEED_BEYOND_TEST_ENGINE_QEMU + DSP_QEMU_MODELS])
def test_dsp_path_on_qemu_matches_oracle(selftest_elf, tmp_path, seed):
    model, inputs, expected = oracle_case(seed)
    assert run_on_qemu(selftest_elf, tmp_path, model, inputs) == expected


# --- targeted CONV_2D / MAX_POOL_2D shapes for the fast paths ------------------------------------
# (h, w, in_c, kh, kw, out_c, stride, dilation, padding, bias, activation, batches): the 1xN path
# (w == kw == 1, dilation 1) with odd and even k and out_c, strides, VALID windows that stop
# short of the end, SAME windows that hang over both ends; and the im2col path with an odd
# number of output positions, dilation and stride.
CONV_CASES = [
    (128, 1, 3, 33, 1, 16, 1, 1, "same", True, "relu", 1),    # the committed models' first conv
    (16, 1, 16, 5, 1, 16, 1, 1, "same", True, "relu", 1),     # ... and their second
    (37, 1, 5, 7, 1, 7, 2, 1, "same", False, "none", 2),
    (40, 1, 1, 9, 1, 1, 3, 1, "valid", True, "relu6", 1),
    (9, 1, 2, 4, 1, 3, 1, 1, "valid", True, "relu_n1_to_1", 1),
    (7, 5, 3, 3, 3, 5, 1, 1, "same", True, "none", 1),
    (9, 7, 2, 3, 2, 4, 2, 2, "same", False, "relu", 2),
    (6, 6, 4, 1, 1, 9, 1, 1, "valid", True, "none", 1),
    (5, 3, 3, 5, 1, 6, 1, 2, "same", True, "relu", 1),       # width > 1 with a 1xN filter: im2col
]


def _conv_model(h, w, in_c, kh, kw, out_c, stride, dilation, padding, bias, activation, batches, seed):
    from harness.engine import tflite_builder as tb
    from harness.engine.tflite_builder import Activation, BuiltinOp, ModelBuilder, Padding

    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    x = b.add_tensor("x", (batches, h, w, in_c), "int8", scale=0.02, zero_point=int(rng.integers(-100, 100)))
    fscales = rng.uniform(0.002, 0.03, size=out_c).astype(np.float32)
    f = b.add_const("filter", rng.integers(-127, 128, size=(out_c, kh, kw, in_c), dtype=np.int8),
                    scale=fscales, zero_point=[0] * out_c, quantized_dimension=0)
    bias_index = -1
    if bias:
        bias_index = b.add_const("bias", rng.integers(-3000, 3001, size=out_c).astype(np.int32),
                                 scale=(np.float32(0.02) * fscales).astype(np.float32), zero_point=[0] * out_c)
    pad = Padding.SAME if padding == "same" else Padding.VALID
    eff_h, eff_w = (kh - 1) * dilation + 1, (kw - 1) * dilation + 1
    out_h = (h + stride - 1) // stride if pad == Padding.SAME else (h - eff_h) // stride + 1
    out_w = (w + stride - 1) // stride if pad == Padding.SAME else (w - eff_w) // stride + 1
    out_scale = float(np.float32(0.02 * float(np.mean(fscales)) * 73 * 60 * np.sqrt(kh * kw * in_c) * 3 / 127))
    y = b.add_tensor("y", (batches, out_h, out_w, out_c), "int8", scale=out_scale, zero_point=int(rng.integers(-20, 20)))
    act = {"none": Activation.NONE, "relu": Activation.RELU, "relu6": Activation.RELU6,
           "relu_n1_to_1": Activation.RELU_N1_TO_1}[activation]
    b.add_op(BuiltinOp.CONV_2D, [x, f, bias_index], [y], tb.Conv2DOptions(pad, stride, stride, act, dilation, dilation))
    z = b.add_tensor("z", (batches, max(1, out_h // 2), out_w, out_c), "int8", scale=out_scale,
                     zero_point=b.tensors[y].zero_point[0])
    b.add_op(BuiltinOp.MAX_POOL_2D, [y], [z], tb.Pool2DOptions(Padding.VALID if out_h >= 2 else Padding.SAME,
                                                               1, 2 if out_h >= 2 else 1, 1, 2 if out_h >= 2 else 1, act))
    return b.build(inputs=[x], outputs=[z])


@pytest.mark.parametrize("case", CONV_CASES, ids=[f"conv{i}" for i in range(len(CONV_CASES))])
def test_fast_conv_shapes_on_host(reference_library, case):
    from engine_cases import oracle_run

    model = _conv_model(*case, seed=len(case) + case[0])
    for seed in range(2):
        inputs = _inputs(model, seed)
        expected = b"".join(o.tobytes() for o in oracle_run(model, inputs))
        assert _all_outputs(model, inputs) == expected
        assert _all_outputs(model, inputs, reference_library) == expected


@pytest.mark.parametrize("case", CONV_CASES, ids=[f"conv{i}" for i in range(len(CONV_CASES))])
def test_fast_conv_shapes_on_qemu(selftest_elf, tmp_path, case):
    from engine_cases import oracle_run

    model = _conv_model(*case, seed=len(case) + case[0])
    inputs = _inputs(model, 5)
    expected = b"".join(o.tobytes() for o in oracle_run(model, inputs))
    assert run_on_qemu(selftest_elf, tmp_path, model, inputs) == expected


# (batches, depth, units, per_channel, bias, activation): depths with every remainder mod 4.
FC_CASES = [(1, 16, 3, False, True, "none"), (2, 37, 5, True, True, "relu"), (1, 3, 4, True, False, "none"),
            (3, 130, 9, False, True, "relu6"), (1, 1, 2, False, True, "none"), (2, 66, 1, True, True, "none")]


def _fc_model(batches, depth, units, per_channel, bias, activation, seed):
    from harness.engine import tflite_builder as tb
    from harness.engine.tflite_builder import Activation, BuiltinOp, ModelBuilder

    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    x = b.add_tensor("x", (batches, depth), "int8", scale=0.03, zero_point=int(rng.integers(-100, 100)))
    fscales = rng.uniform(0.002, 0.03, size=units if per_channel else 1).astype(np.float32)
    w = b.add_const("w", rng.integers(-127, 128, size=(units, depth), dtype=np.int8), scale=fscales,
                    zero_point=[0] * len(fscales), quantized_dimension=0)
    bias_index = -1
    if bias:
        bias_index = b.add_const("bias", rng.integers(-3000, 3001, size=units).astype(np.int32),
                                 scale=(np.float32(0.03) * fscales).astype(np.float32), zero_point=[0] * len(fscales))
    out_scale = float(np.float32(0.03 * float(np.mean(fscales)) * 73 * 60 * np.sqrt(depth) * 3 / 127))
    y = b.add_tensor("y", (batches, units), "int8", scale=out_scale, zero_point=int(rng.integers(-20, 20)))
    act = {"none": Activation.NONE, "relu": Activation.RELU, "relu6": Activation.RELU6}[activation]
    b.add_op(BuiltinOp.FULLY_CONNECTED, [x, w, bias_index], [y], tb.FullyConnectedOptions(act))
    return b.build(inputs=[x], outputs=[y])


@pytest.mark.parametrize("case", FC_CASES, ids=[f"fc{i}" for i in range(len(FC_CASES))])
def test_fast_fully_connected_on_host_and_qemu(reference_library, selftest_elf, tmp_path, case):
    from engine_cases import oracle_run

    model = _fc_model(*case, seed=case[1])
    inputs = _inputs(model, 3)
    expected = b"".join(o.tobytes() for o in oracle_run(model, inputs))
    assert _all_outputs(model, inputs) == expected
    assert _all_outputs(model, inputs, reference_library) == expected
    assert run_on_qemu(selftest_elf, tmp_path, model, inputs) == expected
