"""The 16x8 kernels cross-compiled for Cortex-M4F (firmware flags, -Os, hard float, newlib's
expf for the softmax LUTs) on QEMU's mps2-an386 give tflite_micro's bytes.

HIL_ENGINE_QEMU_16X8_MODELS (default 200) random 16x8 models, one random input each; the
committed 16x8 models run in test_engine_qemu.py with the others.
"""

from __future__ import annotations

import os
import shutil

import pytest
from engine_cases import QEMU, RANDOM_16X8_SEEDS, oracle_case, run_on_qemu
from engine_support.qemu_selftest import build_qemu_selftest

QEMU_16X8_MODELS = int(os.environ.get("HIL_ENGINE_QEMU_16X8_MODELS", "200"))

pytestmark = pytest.mark.skipif(
    shutil.which(QEMU) is None or shutil.which("arm-none-eabi-gcc") is None,
    reason="needs qemu-system-arm and arm-none-eabi-gcc (apt-get install qemu-system-arm gcc-arm-none-eabi)")


@pytest.fixture(scope="module")
def selftest_elf():
    return build_qemu_selftest()


@pytest.mark.parametrize("seed", list(RANDOM_16X8_SEEDS)[:QEMU_16X8_MODELS])
def test_cross_compiled_16x8_kernels_match_oracle(selftest_elf, tmp_path, seed):
    model, inputs, expected = oracle_case(seed)
    assert run_on_qemu(selftest_elf, tmp_path, model, inputs) == expected
