"""<name>.json: structure, hashes, and the checks load_bundle makes. No TensorFlow needed."""

from __future__ import annotations

import json
import shutil

import pytest
from model_cases import MODELS_DIR

from harness.errors import ModelError
from harness.models.inspect import read_model_info
from harness.bundle.load import load_bundle
from harness.models.metadata import read_metadata, sha256_file

NAMES = sorted(p.stem for p in MODELS_DIR.glob("*.json"))


@pytest.mark.parametrize("name", NAMES)
def test_metadata_describes_the_files(name):
    meta = read_metadata(MODELS_DIR / f"{name}.json")
    for role in ("int8", "float"):
        path = MODELS_DIR / meta.files[role]["name"]
        assert sha256_file(path) == meta.files[role]["sha256"]
        assert path.stat().st_size == meta.files[role]["bytes"]
    info = read_model_info(MODELS_DIR / meta.files["int8"]["name"])
    assert list(info.ops) == meta.ops
    assert meta.input["scale"] == pytest.approx(info.input.scale, rel=1e-7)
    assert meta.input["zero_point"] == info.input.zero_point
    assert meta.classes == ["normal", "pre_failure", "impact"]
    assert meta.training["seed"] == meta.training["dataset"]["seed"]
    assert meta.calibration["outlier_peak_g"] == 8.13
    assert meta.calibration["max_abs_g"] > 8.13   # the shock is in the calibration set
    assert meta.versions["tensorflow"] and meta.versions["tflite-micro"]
    assert meta.scaler["kind"] == meta.training["scaler"]
    assert load_bundle(MODELS_DIR / f"{name}.json").scaler.output_channels == info.input.shape[-1]


def _copy(tmp_path, name="robust"):
    for suffix in (".tflite", ".float.tflite", ".json"):
        shutil.copy(MODELS_DIR / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    return tmp_path / f"{name}.json"


def _edited(tmp_path, edit):
    """A copy of the robust bundle whose JSON ``edit(data)`` changed in place."""
    json_path = _copy(tmp_path)
    data = json.loads(json_path.read_text())
    edit(data)
    json_path.write_text(json.dumps(data))
    return json_path


def test_changed_model_file_is_caught(tmp_path):
    json_path = _copy(tmp_path)
    model = tmp_path / "robust.tflite"
    data = bytearray(model.read_bytes())
    data[-1] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="robust.tflite hashes to .*: the file changed") as err:
        load_bundle(json_path)
    assert (err.value.path, err.value.field) == (str(json_path), "files.int8.sha256")


def test_quantization_mismatch_is_caught(tmp_path):
    json_path = _edited(tmp_path, lambda data: data["input"].update(zero_point=data["input"]["zero_point"] + 1))
    with pytest.raises(ModelError, match="field 'input' is .*'zero_point': -2.*the .tflite has .*'zero_point': -3") as err:
        load_bundle(json_path)
    assert err.value.field == "input"


def test_scaler_swapped_for_another_kind_is_caught(tmp_path):
    two_stage = json.loads((MODELS_DIR / "two_stage.json").read_text())["scaler"]
    json_path = _edited(tmp_path, lambda data: data.update(scaler=two_stage))
    with pytest.raises(ModelError, match="produces 6 channel"):
        load_bundle(json_path)


def test_bad_json_and_missing_fields(tmp_path):
    json_path = _copy(tmp_path)
    json_path.write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        read_metadata(json_path)
    json_path = _edited(tmp_path, lambda data: data.pop("files"))
    with pytest.raises(ModelError, match="field 'files' is required") as err:
        read_metadata(json_path)
    assert err.value.field == "files"


def test_missing_model_file(tmp_path):
    json_path = _copy(tmp_path)
    (tmp_path / "robust.float.tflite").unlink()
    with pytest.raises(ModelError, match="robust.float.tflite, which does not exist"):
        load_bundle(json_path)
