"""Shared cases of the engine tests: the oracle, the models and the QEMU runner.

(A plain module, not conftest.py: several test folders have a conftest, and `from conftest
import` would pick whichever was imported first.)

Random models are generated once per session from a fixed seed base; their count is
HIL_ENGINE_RANDOM_MODELS (default 500).
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from engine_support import REPO_ROOT
from engine_support.random_models import GeneratedModel, random_model
from engine_support.random_models_16x8 import random_model_16x8

# INT8 models only: the <name>.float.tflite twins are the float references, not engine inputs.
FIXTURE_MODELS = sorted(p for p in (REPO_ROOT / "fixtures" / "models").glob("*.tflite")
                        if not p.name.endswith(".float.tflite"))
RANDOM_SEED_BASE = 20_000
RANDOM_MODEL_COUNT = int(os.environ.get("HIL_ENGINE_RANDOM_MODELS", "500"))
RANDOM_SEEDS = range(RANDOM_SEED_BASE, RANDOM_SEED_BASE + RANDOM_MODEL_COUNT)

# 16x8 random models (int16 activations, int8 weights): HIL_ENGINE_RANDOM_16X8_MODELS (default
# 250) from their own seed base, so they never share a seed with the int8 ones.
RANDOM_16X8_SEED_BASE = 30_000
RANDOM_16X8_MODEL_COUNT = int(os.environ.get("HIL_ENGINE_RANDOM_16X8_MODELS", "250"))
RANDOM_16X8_SEEDS = range(RANDOM_16X8_SEED_BASE, RANDOM_16X8_SEED_BASE + RANDOM_16X8_MODEL_COUNT)

_MODEL_CACHE: dict[int, GeneratedModel] = {}


def generated(seed: int) -> GeneratedModel:
    """The random model of `seed` (16x8 for seeds from RANDOM_16X8_SEED_BASE on), generated once
    per session."""
    if seed not in _MODEL_CACHE:
        _MODEL_CACHE[seed] = random_model_16x8(seed) if seed >= RANDOM_16X8_SEED_BASE else random_model(seed)
    return _MODEL_CACHE[seed]


def oracle_run(model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """TFLM's reference kernels (tflite_micro.runtime) on `inputs`; copies of every output."""
    from tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(model, arena_size=max(4 << 20, 10 * len(model)))
    for index, array in enumerate(inputs):
        interpreter.set_input(array, index)
    interpreter.invoke()
    outputs = []
    index = 0
    while True:
        try:
            interpreter.get_output_details(index)
        except IndexError:  # the runtime raises it once the index passes the last output
            break
        outputs.append(np.array(interpreter.get_output(index), copy=True))
        index += 1
    return outputs


def assert_generated_ops(seeds, expected: set[str]) -> None:
    """The random models of `seeds` contain every op of `expected` (a random suite is evidence
    only for the ops it generates)."""
    seen = {op for seed in seeds for op in generated(seed).ops}
    assert expected <= seen, f"never generated: {sorted(expected - seen)}"


QEMU = "qemu-system-arm"
needs_qemu = pytest.mark.skipif(
    shutil.which(QEMU) is None or shutil.which("arm-none-eabi-gcc") is None,
    reason="needs qemu-system-arm and arm-none-eabi-gcc (apt-get install qemu-system-arm gcc-arm-none-eabi)")


def qemu_selftest_exit(elf, workdir, model: bytes, inputs: list[np.ndarray]) -> int:
    """Run a semihosting self-test ELF (tests/engine/qemu/engine_selftest.c) on mps2-an386 in
    `workdir` (model.tflite, input.bin in, output.bin out); returns its exit code (0: ran)."""
    import subprocess

    (workdir / "model.tflite").write_bytes(model)
    (workdir / "input.bin").write_bytes(b"".join(np.ascontiguousarray(a).tobytes() for a in inputs))
    proc = subprocess.run(
        [QEMU, "-M", "mps2-an386", "-cpu", "cortex-m4", "-nographic", "-monitor", "none",
         "-serial", "none", "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)],
        cwd=workdir, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        print(f"self-test exit {proc.returncode}: {proc.stdout}{proc.stderr}")
    return proc.returncode


def run_on_qemu(elf, workdir, model: bytes, inputs: list[np.ndarray]) -> bytes:
    """The bytes the self-test ELF wrote to output.bin for `model` on `inputs` (it must exit 0)."""
    exit_code = qemu_selftest_exit(elf, workdir, model, inputs)
    assert exit_code == 0, f"self-test exit {exit_code} (its output is printed above)"
    return (workdir / "output.bin").read_bytes()


def assert_qemu_matches_oracle(elf, workdir, seed: int) -> None:
    """Random model `seed` on the cross-compiled self-test gives the oracle's bytes."""
    model, inputs, expected = oracle_case(seed)
    assert run_on_qemu(elf, workdir, model, inputs) == expected, f"seed {seed}: {generated(seed).name}"


def oracle_case(seed: int) -> tuple[bytes, list[np.ndarray], bytes]:
    """(model, inputs, the oracle's output bytes) of random model ``seed``, inputs seeded seed + 1:
    what every build of an engine (host, cross-compiled, TFLM) must reproduce."""
    from engine_support.random_models import random_inputs
    from harness.engine.host import HostEngine
    model = generated(seed).model
    rng = np.random.default_rng(seed + 1)
    inputs = [random_inputs(rng, info.dtype, info.shape) for info in HostEngine(model).inputs]
    return model, inputs, b"".join(o.tobytes() for o in oracle_run(model, inputs))
