"""harness.models.json_kind: a model bundle, a scaler export or a fold export, told apart once."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.bundle.load import list_bundles
from harness.bundle.make import load_scaler
from harness.device.inputs import fold_from_file
from harness.errors import BundleError, ConfigError
from harness.models.json_kind import BUNDLE, FOLD_EXPORT, SCALER_EXPORT, json_kind, read_json_kind
from harness.paths import MODELS_DIR
from harness.quant.fold import fold_scaler
from harness.quant.scalers import make_scaler
from harness.quant.tflite import QuantParams

INPUT = QuantParams(0.05, -3)


@pytest.fixture
def files(tmp_path):
    scaler = make_scaler("robust").fit(np.random.default_rng(0).normal(0.0, 1.0, (500, 3)))
    fold = fold_scaler(scaler, INPUT, 2048.0)
    paths = {BUNDLE: MODELS_DIR / "minmax.json", SCALER_EXPORT: tmp_path / "scaler.json",
             FOLD_EXPORT: tmp_path / "fold.json"}
    paths[SCALER_EXPORT].write_text(json.dumps(scaler.export()))
    paths[FOLD_EXPORT].write_text(json.dumps(fold.export()))
    return paths, scaler, fold


@pytest.mark.parametrize("kind", [BUNDLE, SCALER_EXPORT, FOLD_EXPORT])
def test_each_kind_is_told_from_the_others(files, kind):
    paths, _, _ = files
    found, data = read_json_kind(paths[kind])
    assert found == kind and json_kind(data) == kind
    others = tuple(k for k in (BUNDLE, SCALER_EXPORT, FOLD_EXPORT) if k != kind)
    with pytest.raises(ConfigError, match=f"is a {kind}, not") as err:
        read_json_kind(paths[kind], allowed=others)
    assert str(err.value).startswith(f"{paths[kind]}: ")


def test_a_threshold_fold_and_a_bundle_scaler_are_what_they_say(files):
    paths, scaler, _ = files
    bundle = json.loads(paths[BUNDLE].read_text())
    assert json_kind(bundle["scaler"]) == SCALER_EXPORT
    assert json_kind({"kind": "threshold", "channels": [], "code_base": -128}) == FOLD_EXPORT
    # a scaler export carrying its fold is still a scaler export
    assert json_kind(dict(scaler.export(), fixed_point=files[2].export())) == SCALER_EXPORT


@pytest.mark.parametrize("text, says", [
    ('{"name": "x", "classes": ["a"]}', "is a JSON object with keys classes, name, not a model bundle"),
    ("{}", "is an empty JSON object"),
    ("[1, 2]", "is a JSON list"),
    ('{"kind": "affine"}', "keys kind,"),            # a fold without channels is not a fold
    ('{"format": 2, "files": {"float": {}}}', "keys files, format"),   # a bundle needs files.int8
    ("{not json", "is not valid JSON"),
], ids=["other-object", "empty", "list", "fold-without-channels", "bundle-without-int8", "not-json"])
def test_a_bad_file_is_named_with_what_it_is(tmp_path, text, says):
    path = tmp_path / "what.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        read_json_kind(path)
    assert str(err.value).startswith(f"{path}: ") and says in str(err.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="cannot read it") as err:
        read_json_kind(tmp_path / "absent.json")
    assert str(tmp_path / "absent.json") in str(err.value)


def test_every_reader_uses_it(files, tmp_path):
    paths, scaler, fold = files
    device_model = type("M", (), {"input": type("I", (), {"scale": INPUT.scale, "zero_point": INPUT.zero_point,
                                                          "dtype": np.dtype(np.int8)})})
    counts = np.random.default_rng(3).integers(-32768, 32768, (200, 3)).astype(np.int16)
    for kind in (SCALER_EXPORT, FOLD_EXPORT):
        assert np.array_equal(fold_from_file(paths[kind], device_model).codes(counts), fold.codes(counts))
    with pytest.raises(ConfigError, match="not a model bundle .* or a fold export"):
        fold_from_file(_write(tmp_path, "[]"), device_model)
    assert load_scaler(str(paths[SCALER_EXPORT])).export() == scaler.export()
    with pytest.raises(BundleError, match="is not a harness scaler export: is a fold export") as err:
        load_scaler(str(paths[FOLD_EXPORT]))
    assert err.value.path == str(paths[FOLD_EXPORT]) and err.value.field == "scaler"
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "fold.json").write_text(paths[FOLD_EXPORT].read_text())
    with pytest.raises(BundleError, match="is a fold export, not a model bundle") as err:
        list_bundles(folder)
    assert err.value.path == str(folder / "fold.json")


def _write(folder, text):
    path = folder / "bad.json"
    path.write_text(text)
    return path
