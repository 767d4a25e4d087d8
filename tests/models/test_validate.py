"""The .tflite reader and the validation errors, on crafted bad inputs. No TensorFlow needed."""

from __future__ import annotations

import os

import numpy as np
import pytest
from model_cases import DATA_DIR, MODELS_DIR

from harness.errors import ModelError
from harness.models.inspect import read_model_info
from harness.models.validate import SUPPORTED_OPS, check_scaler_match, validate_model
from harness.quant.scalers import make_scaler

GOOD = MODELS_DIR / "minmax.tflite"


def test_reads_committed_model():
    info = read_model_info(GOOD)
    assert info.ops == ("RESHAPE", "CONV_2D", "MAX_POOL_2D", "MEAN", "FULLY_CONNECTED", "SOFTMAX")
    assert info.op_counts["CONV_2D"] == 2
    assert info.input.shape == (1, 128, 3) and info.input.dtype == "int8"
    # min-max output spans [0, 1] over the calibration set: TFLite's [0, 1] mapping
    assert info.input.zero_point == -128
    assert info.input.scale == pytest.approx(1 / 255, rel=1e-6)
    assert info.output.shape == (1, 3) and info.output.dtype == "int8"
    assert set(info.ops) <= SUPPORTED_OPS


def test_reader_agrees_with_tflite_micro_schema():
    """Independent oracle: tflite-micro's generated flatbuffer classes."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(GOOD.read_bytes(), 0))
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    ops = []
    for op in model.subgraphs[0].operators:
        code = model.operatorCodes[op.opcodeIndex]
        name = names[max(code.builtinCode, code.deprecatedBuiltinCode)]
        if name not in ops:
            ops.append(name)
    info = read_model_info(GOOD)
    assert tuple(ops) == info.ops
    tensor = model.subgraphs[0].tensors[model.subgraphs[0].inputs[0]]
    assert tuple(tensor.shape) == info.input.shape
    assert float(tensor.quantization.scale[0]) == pytest.approx(info.input.scale, rel=1e-7)
    assert int(tensor.quantization.zeroPoint[0]) == info.input.zero_point


@pytest.mark.parametrize("cut", [8, 100, 1000, -200, -1])
def test_truncated_file_is_named(tmp_path, cut):
    data = GOOD.read_bytes()
    path = tmp_path / "cut.tflite"
    path.write_bytes(data[:cut])
    with pytest.raises(ModelError) as err:
        read_model_info(path)
    assert err.value.path == str(path)
    assert "truncated" in str(err.value) or "not a TFLite flatbuffer" in str(err.value)


def test_random_bytes_are_not_a_flatbuffer(tmp_path):
    path = tmp_path / "noise.tflite"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(ModelError, match="no 'TFL3' identifier") as err:
        read_model_info(path)
    assert str(path) in str(err.value)


def test_random_bytes_behind_the_identifier(tmp_path):
    rng = np.random.default_rng(2)
    for trial in range(50):
        body = rng.integers(0, 256, 512, dtype=np.uint8).tobytes()
        path = tmp_path / f"fake{trial}.tflite"
        path.write_bytes(body[:4] + b"TFL3" + body[8:])
        try:
            read_model_info(path)
        except ModelError as e:
            assert e.path == str(path)


def test_empty_and_missing_files(tmp_path):
    empty = tmp_path / "empty.tflite"
    empty.write_bytes(b"")
    with pytest.raises(ModelError, match="empty file"):
        read_model_info(empty)
    with pytest.raises(ModelError, match="cannot read"):
        read_model_info(tmp_path / "absent.tflite")


def test_unsupported_op_is_named():
    path = DATA_DIR / "tanh_int8.tflite"
    with pytest.raises(ModelError, match=r"op\(s\) TANH outside the supported set") as err:
        validate_model(path)
    assert err.value.path == str(path)


def test_float_model_is_not_int8():
    path = DATA_DIR / "float_model.tflite"
    with pytest.raises(ModelError, match="not a full-integer INT8 model: input .* is float32"):
        validate_model(path)
    assert validate_model(path, int8=False).input.dtype == "float32"


def test_committed_float_model_is_rejected_as_int8():
    with pytest.raises(ModelError, match="float32"):
        validate_model(MODELS_DIR / "minmax.float.tflite")


def test_scaler_channel_mismatch():
    calibration = np.random.default_rng(0).normal(size=(500, 3))
    two_stage = make_scaler("two_stage").fit(calibration)   # 6 output channels
    with pytest.raises(ModelError, match="produces 6 channel.* model input has 3") as err:
        validate_model(GOOD, scaler=two_stage)
    assert err.value.path == str(GOOD)
    robust = make_scaler("robust").fit(calibration)
    with pytest.raises(ModelError, match="produces 3 channel.* model input has 6"):
        validate_model(MODELS_DIR / "two_stage.tflite", scaler=robust)
    check_scaler_match(read_model_info(GOOD), robust, window_len=128)


def test_window_length_mismatch():
    robust = make_scaler("robust").fit(np.random.default_rng(0).normal(size=(500, 3)))
    with pytest.raises(ModelError, match="windows of 128 samples, the data has 256"):
        validate_model(GOOD, scaler=robust, window_len=256)


def test_every_committed_model_validates():
    from harness.bundle.load import load_bundle
    bundles = sorted(MODELS_DIR.glob("*.json"))
    assert {p.stem for p in bundles} >= {"minmax", "robust", "log1p", "two_stage", "minmax_qat"}
    for path in bundles:
        bundle = load_bundle(path)
        for model in (bundle.int8_path, bundle.float_path):
            assert os.path.getsize(model) < 100 * 1024
