"""The engine under AddressSanitizer + UBSan: the same random models, through the sanitized
command-line runner, give the same bytes as the release build, with no sanitizer report."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from engine_cases import RANDOM_SEEDS, generated
from engine_support.random_models import random_inputs

from harness.engine.build import build_runner
from harness.engine.host import HostEngine

ASAN_MODELS = 40

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="no host C compiler (cc)")


@pytest.fixture(scope="module")
def runner():
    return build_runner("asan")


def run(runner, tmp_path, model: bytes, inputs: list[np.ndarray]) -> subprocess.CompletedProcess:
    (tmp_path / "model.tflite").write_bytes(model)
    (tmp_path / "input.bin").write_bytes(b"".join(np.ascontiguousarray(a).tobytes() for a in inputs))
    return subprocess.run([str(runner), str(tmp_path / "model.tflite"), str(tmp_path / "input.bin"),
                           str(tmp_path / "output.bin")], capture_output=True, text=True, timeout=60)


def assert_sanitized_run_matches_release_build(runner, tmp_path, seed: int) -> None:
    """Random model `seed` (inputs seeded `seed`) through the sanitized runner: exit 0, no
    sanitizer report, the release build's bytes and arena figure."""
    model = generated(seed).model
    engine = HostEngine(model)
    rng = np.random.default_rng(seed)
    inputs = [random_inputs(rng, info.dtype, info.shape) for info in engine.inputs]
    proc = run(runner, tmp_path, model, inputs)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "runtime error" not in proc.stderr, proc.stderr
    expected = b"".join(o.tobytes() for o in engine.invoke_all(inputs))
    assert (tmp_path / "output.bin").read_bytes() == expected
    assert f"arena_used={engine.arena_used}" in proc.stdout


@pytest.mark.parametrize("seed", list(RANDOM_SEEDS)[:ASAN_MODELS])
def test_sanitized_engine_matches_release_build(runner, tmp_path, seed):
    assert_sanitized_run_matches_release_build(runner, tmp_path, seed)


def assert_corruptions_end_cleanly(runner, tmp_path, models: list[bytes], runs_per_model: int,
                                   rng: np.random.Generator, input_bytes: int) -> None:
    """`runs_per_model` copies of each model with 4 random bytes replaced: every run ends in OK or
    a named refusal (exit 0, 2 or 65), never in a sanitizer report (exit 1 from ASan/UBSan, or a
    signal), and not all runs end the same way."""
    outcomes = set()
    for model in models:
        for _ in range(runs_per_model):
            corrupted = bytearray(model)
            for at in rng.integers(0, len(model), size=4):
                corrupted[at] = int(rng.integers(0, 256))
            proc = run(runner, tmp_path, bytes(corrupted), [np.zeros(input_bytes, np.int8)])
            assert proc.returncode in (0, 2, 65), proc.stdout + proc.stderr
            outcomes.add(proc.stdout.split()[0] if proc.stdout else str(proc.returncode))
    assert len(outcomes) > 1, outcomes


def test_sanitized_engine_refuses_corrupted_models_cleanly(runner, tmp_path):
    """Random byte flips in a real model: OK or a named refusal, never a sanitizer report."""
    assert_corruptions_end_cleanly(runner, tmp_path, [generated(RANDOM_SEEDS[0]).model], 60,
                                   np.random.default_rng(7), 4096)
