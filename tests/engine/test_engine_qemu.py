"""The portable engine cross-compiled for Cortex-M4F (firmware flags, -Os, hard float) runs on
QEMU's mps2-an386 and gives the same bytes as the host build - and therefore as TFLM."""

from __future__ import annotations

import numpy as np
import pytest
from engine_cases import FIXTURE_MODELS, RANDOM_SEEDS, assert_qemu_matches_oracle, needs_qemu, oracle_run, run_on_qemu
from engine_support.qemu_selftest import build_qemu_selftest
from engine_support.random_models import random_inputs

from harness.engine.host import HostEngine

QEMU_MODELS = 30

pytestmark = needs_qemu


@pytest.fixture(scope="module")
def selftest_elf():
    return build_qemu_selftest()


@pytest.mark.parametrize("seed", list(RANDOM_SEEDS)[:QEMU_MODELS])
def test_cross_compiled_engine_matches_oracle(selftest_elf, tmp_path, seed):
    assert_qemu_matches_oracle(selftest_elf, tmp_path, seed)


@pytest.mark.parametrize("path", FIXTURE_MODELS, ids=[p.stem for p in FIXTURE_MODELS])
def test_cross_compiled_engine_runs_committed_models(selftest_elf, tmp_path, path):
    model = path.read_bytes()
    engine = HostEngine(model, arena_size=2 << 20)
    rng = np.random.default_rng(0)
    inputs = [random_inputs(rng, info.dtype, info.shape) for info in engine.inputs]
    expected = b"".join(o.tobytes() for o in oracle_run(model, inputs))
    assert run_on_qemu(selftest_elf, tmp_path, model, inputs) == expected
