"""Bit-exactness: the portable engine (host build) against TFLM's reference kernels.

Every committed model in fixtures/models/ and RANDOM_MODEL_COUNT random models from a fixed
seed base run on random inputs through both; tflite-micro's own test style: dtype and shape
first, then the values compared element for element in the integer (or raw float bit) domain.
"""

from __future__ import annotations

import numpy as np
import pytest
from engine_cases import FIXTURE_MODELS, RANDOM_SEEDS, assert_generated_ops, generated, oracle_run
from engine_support.random_models import random_inputs

from harness.engine.host import HostEngine

INPUTS_PER_MODEL = 3


def assert_same_outputs(expected: list[np.ndarray], actual: list[np.ndarray], what: str) -> None:
    assert len(actual) == len(expected), f"{what}: {len(actual)} outputs, oracle has {len(expected)}"
    for index, (ref, got) in enumerate(zip(expected, actual)):
        assert got.dtype == ref.dtype, f"{what} output {index}: dtype {got.dtype}, oracle {ref.dtype}"
        assert got.shape == ref.shape, f"{what} output {index}: shape {got.shape}, oracle {ref.shape}"
        if ref.dtype == np.float32:  # DEQUANTIZE outputs: compare the exact float bits
            ref, got = ref.view(np.uint32), got.view(np.uint32)
        mismatch = np.flatnonzero(ref.ravel() != got.ravel())
        assert mismatch.size == 0, (
            f"{what} output {index}: {mismatch.size}/{ref.size} elements differ; first at flat "
            f"index {mismatch[0]}: engine {got.ravel()[mismatch[0]]}, oracle {ref.ravel()[mismatch[0]]}")


def check_model(model: bytes, seed: int, what: str) -> HostEngine:
    engine = HostEngine(model, arena_size=2 << 20)
    rng = np.random.default_rng(seed)
    for trial in range(INPUTS_PER_MODEL):
        inputs = [random_inputs(rng, info.dtype, info.shape) for info in engine.inputs]
        assert_same_outputs(oracle_run(model, inputs), engine.invoke_all(inputs),
                            f"{what} input #{trial}")
    return engine


@pytest.mark.parametrize("path", FIXTURE_MODELS, ids=[p.stem for p in FIXTURE_MODELS])
def test_committed_model_is_bit_exact(path):
    check_model(path.read_bytes(), 0, path.name)


def check_generated_model(seed: int) -> HostEngine:
    """Random model `seed` on inputs seeded `seed`; failures name its op chain."""
    model = generated(seed)
    return check_model(model.model, seed, model.name)


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_random_model_is_bit_exact(seed):
    check_generated_model(seed)


def test_random_models_cover_every_supported_op():
    """The random suite is only evidence for ops it actually generates."""
    assert_generated_ops(RANDOM_SEEDS, {
        "conv", "dwconv", "fc", "maxpool", "avgpool", "mean", "reshape", "squeeze", "expand-squeeze",
        "softmax", "add", "addconst", "quantize", "requant", "dequantize"})


def test_engine_reports_the_models_io_quantization():
    model = generated(RANDOM_SEEDS[0]).model
    from tflite_micro import runtime

    oracle = runtime.Interpreter.from_bytes(model, arena_size=4 << 20)
    engine = HostEngine(model)
    details = oracle.get_input_details(0)
    info = engine.inputs[0]
    assert info.shape == tuple(int(d) for d in details["shape"])
    assert info.dtype == np.dtype(details["dtype"])
    scales = details["quantization_parameters"]["scales"]
    if info.dtype == np.int8:
        assert info.scale == pytest.approx(float(scales[0]), rel=0, abs=0)
        assert info.zero_point == int(details["quantization_parameters"]["zero_points"][0])
