"""The tflm engine (firmware/src/engine/tflm/engine_tflm.cc) behind the same hil/engine.h:
built against the user's TFLM tree and run on QEMU, it must give the oracle's bytes and refuse
the same unsupported models. TFLM is never in this repository, so these tests skip unless
HIL_TFLM_DIR names a tflite-micro tree with a Cortex-M4F libtensorflow-microlite.a."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from engine_cases import QEMU, RANDOM_SEEDS, generated, oracle_run, run_on_qemu

from harness.engine.build import build_qemu_selftest_tflm
from harness.engine.host import HostEngine
from harness.engine.random_models import random_inputs

TFLM_DIR = os.environ.get("HIL_TFLM_DIR")

pytestmark = [
    pytest.mark.skipif(not TFLM_DIR, reason="HIL_TFLM_DIR is not set: no TFLM tree to build the tflm engine against"),
    pytest.mark.skipif(shutil.which(QEMU) is None, reason="qemu-system-arm is not installed"),
]


@pytest.fixture(scope="module")
def tflm_elf():
    release = os.environ.get("HIL_TFLM_RELEASE", "1") == "1"
    return build_qemu_selftest_tflm(Path(TFLM_DIR), release=release)


@pytest.mark.parametrize("seed", list(RANDOM_SEEDS)[:20])
def test_tflm_engine_matches_oracle(tflm_elf, tmp_path, seed):
    model = generated(seed).model
    engine = HostEngine(model)
    rng = np.random.default_rng(seed + 1)
    inputs = [random_inputs(rng, info.dtype, info.shape) for info in engine.inputs]
    expected = b"".join(o.tobytes() for o in oracle_run(model, inputs))
    assert run_on_qemu(tflm_elf, tmp_path, model, inputs) == expected
