"""fold_from_file gives the fold of the model the device reports: int8 codes for an INT8 model,
int16 codes for a 16x8 model (its scaler folded at the int16
input scale, zero point 0), never an int8 fold for an int16 input."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from harness.device.inputs import DEFAULT_COUNTS_PER_G, fold_from_file
from harness.paths import MODELS_DIR
from harness.quant.fold import fold_scaler
from harness.quant.scalers import from_export
from harness.quant.tflite import QuantParams


def _device_model(name):
    """What MODEL_INFO says of the model's input (scale, zero point, numpy dtype), from its bundle."""
    tensor = json.loads((MODELS_DIR / f"{name}.json").read_text())["input"]
    return SimpleNamespace(input=SimpleNamespace(scale=tensor["scale"], zero_point=tensor["zero_point"],
                                                 dtype=np.dtype(tensor["dtype"])))


@pytest.mark.parametrize("name", ["minmax_16x8", "robust_16x8"])
def test_a_16x8_model_gets_int16_codes(name):
    if not (MODELS_DIR / f"{name}.json").is_file():
        pytest.skip(f"no {name} bundle in {MODELS_DIR}")
    model = _device_model(name)
    fold = fold_from_file(MODELS_DIR / f"{name}.json", model)
    assert fold.code_bits == 16 and fold.code_dtype == np.int16
    export = json.loads((MODELS_DIR / f"{name}.json").read_text())["scaler"]
    expected = fold_scaler(from_export(export), QuantParams.for_dtype(model.input.scale, 0, "int16"),
                            DEFAULT_COUNTS_PER_G)
    counts = np.random.default_rng(1).integers(-32768, 32768, size=(500, 3)).astype(np.int16)
    assert np.array_equal(fold.codes(counts), expected.codes(counts))
    assert np.abs(fold.codes(counts).astype(int)).max() > 127  # the int16 range is used


def test_an_int8_model_gets_int8_codes():
    model = _device_model("minmax")
    fold = fold_from_file(MODELS_DIR / "minmax.json", model)
    assert fold.code_bits == 8 and fold.code_dtype == np.int8
    export = json.loads((MODELS_DIR / "minmax.json").read_text())["scaler"]
    expected = fold_scaler(from_export(export), QuantParams.for_dtype(model.input.scale, model.input.zero_point, "int8"),
                           DEFAULT_COUNTS_PER_G)
    counts = np.random.default_rng(2).integers(-32768, 32768, size=(500, 3)).astype(np.int16)
    assert np.array_equal(fold.codes(counts), expected.codes(counts))
