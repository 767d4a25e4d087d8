"""int16 input codes on the device (16x8 models, issue 17), in real QEMU with the real firmware.

SET_PREPROCESS kind 3 (affine channels to int16 codes, 24-byte records) is served by this
firmware whatever its engine: it is checked here now. Running a 16x8 model needs the portable
engine's int16 kernels; those tests skip, saying so, until firmware/src/engine/portable/ has them,
and then must show device input codes == the host fold (harness.quant.fold, int16) and device
outputs == tflite_micro's, element for element, with the int16 codes the device reports feeding.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from harness.device import infer_codes, infer_windows, load_model, set_preprocess
from harness.device.synthetic_models import window_classifier
from harness.device.oracle import reference_outputs
from harness.device.preprocess import KIND_AFFINE16, encode_preprocess
from harness.errors import DeviceError, StreamError
from harness.paths import MODELS_DIR
from harness.quant.fold import fold_from_export, fold_scaler
from harness.quant.scalers import from_export, make_scaler
from harness.quant.tflite import QuantParams, choose_int16_quantization_params

from device_cases import (COUNTS_PER_G, ModelCase, portable_16x8_kernels, scenario_counts,
                          skip_without_16x8_kernels)

MODEL_INT8 = window_classifier(3, seed=11)
NAMES_16X8 = ("minmax_16x8", "robust_16x8")


def _fold16(scaler_name: str = "robust"):
    rng = np.random.default_rng(3)
    calibration = rng.normal([0.0, 0.0, 1.0], [0.5, 0.4, 0.3], size=(3000, 3))
    scaler = make_scaler(scaler_name).fit(calibration)
    y = scaler.transform(calibration)
    return fold_scaler(scaler, choose_int16_quantization_params(y.min(), y.max()), COUNTS_PER_G)


def test_int16_fold_goes_out_as_kind_3_records():
    fold = _fold16()
    payloads = encode_preprocess(fold, 2048)
    assert len(payloads) == 1 and payloads[0][0] == KIND_AFFINE16
    assert len(payloads[0]) == 8 + 3 * 24


def test_set_preprocess_takes_int16_codes_and_refuses_a_zero_point(pipeline_device):
    client = pipeline_device.client
    load_model(client, MODEL_INT8)
    fold = _fold16()
    set_preprocess(client, fold)
    assert client.info().preprocess_channels == 3
    shifted = replace(fold, zero_point=5)
    with pytest.raises(DeviceError, match="channel 0: zero_point of int16 codes must be 0") as caught:
        set_preprocess(client, shifted)
    assert caught.value.code_name == "BAD_PREPROCESS"
    assert client.info().preprocess_channels == 0   # a refused configuration leaves none


def test_int16_codes_for_an_int8_model_are_refused_by_name(pipeline_device):
    client = pipeline_device.client
    model = load_model(client, MODEL_INT8)
    assert model.input.dtype == np.int8
    set_preprocess(client, _fold16())
    with pytest.raises(StreamError, match="preprocessing makes int16 codes, the model input is int8") as caught:
        infer_windows(client, np.zeros((1, model.window_len, 3), dtype=np.int16))
    assert caught.value.error.code_name == "SHAPE_MISMATCH"


def _case(name: str) -> ModelCase:
    path = MODELS_DIR / f"{name}.tflite"
    if not path.is_file():
        pytest.skip(f"no committed {name} bundle in {MODELS_DIR}")
    return ModelCase(f"fixture:{name}", path.read_bytes(),
                     scaler_export=json.loads(path.with_suffix(".json").read_text())["scaler"])


def _uploaded(device, name: str):
    """The committed 16x8 bundle uploaded to the device (skips without it or its kernels):
    (its case, the client, the model's info)."""
    case = _case(name)
    skip_without_16x8_kernels(case)
    return case, device.client, load_model(device.client, case.model)


@pytest.mark.parametrize("name", NAMES_16X8)
def test_16x8_model_windows_on_the_device(pipeline_device, name):
    case, client, model = _uploaded(pipeline_device, name)
    assert model.input.dtype == np.dtype("<i2") and model.input.zero_point == 0
    assert model.output.dtype == np.dtype("<i2")
    meta = json.loads((MODELS_DIR / f"{name}.json").read_text())
    scaler = from_export(case.scaler_export)
    params = QuantParams.for_dtype(float(meta["input"]["scale"]), int(meta["input"]["zero_point"]), "int16")
    fold = fold_scaler(scaler, params, float(meta["sensor"]["counts_per_g"]))
    assert fold.code_bits == 16
    set_preprocess(client, fold)
    for scenario in ("normal", "impact", "pre_failure"):
        counts = scenario_counts(scenario, 8, model.window_len, seed=17)
        result = infer_windows(client, counts, model=model, mirror=fold)   # device codes == fold.codes
        assert result.input_codes.dtype == np.dtype("<i2")
        np.testing.assert_array_equal(result.input_codes,
                                      fold.codes(counts).reshape((8,) + model.input.shape))
        assert np.abs(result.input_codes.astype(np.int32)).max() > 127, "int16 codes, not int8 ones"
        expected = reference_outputs(case.model, result.input_codes)
        np.testing.assert_array_equal(result.outputs, expected, err_msg=f"{name} {scenario} vs tflite_micro")
        assert (result.cost > 0).all()


@pytest.mark.parametrize("name", NAMES_16X8)
def test_16x8_model_reports_the_int16_codes_it_was_fed(pipeline_device, name):
    case, client, model = _uploaded(pipeline_device, name)
    rng = np.random.default_rng(5)
    codes = rng.integers(-32768, 32768, size=(4,) + model.input.shape).astype(np.int16)
    result = infer_codes(client, codes)
    np.testing.assert_array_equal(result.input_codes, codes)
    np.testing.assert_array_equal(result.outputs, reference_outputs(case.model, codes))


def test_the_16x8_skip_names_what_is_missing():
    """While the kernels are missing, the skip says so; once they exist it must not skip."""
    case = _case("minmax_16x8")
    if portable_16x8_kernels():
        skip_without_16x8_kernels(case)      # must not raise Skipped
    else:
        with pytest.raises(pytest.skip.Exception, match=r"no \*16x8\*\.c kernels yet"):
            skip_without_16x8_kernels(case)
    assert fold_from_export(_fold16().export()).code_bits == 16
