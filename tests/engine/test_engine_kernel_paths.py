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

from harness.engine.build import COMMON_FLAGS, M4_FLAGS, VARIANT_FLAGS, _run, engine_sources
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
    path = _run(cmd, output, output.with_suffix(".log"))
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
    for fast, ref in (("pe_conv_eval_fast", "pe_conv_eval"), ("pe_max_pool_eval_fast", "pe_max_pool_eval")):
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
