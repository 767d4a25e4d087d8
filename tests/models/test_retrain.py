"""hil train makes the committed fixtures; the float .tflite is the Keras model. Needs TensorFlow.

Retrains every variant (a few minutes on two cores) into a temporary folder and compares it with
fixtures/models: same ops, same input/output quantization, accuracy within tolerance, and
bit-identical files when the TensorFlow version is the one recorded in the metadata (training is
deterministic: seeded, op determinism on, one thread).
"""

from __future__ import annotations

import numpy as np
import pytest
from model_cases import MODELS_DIR, needs_tf

from harness.models.metadata import read_metadata

pytestmark = [needs_tf, pytest.mark.timeout(1800)]

ACCURACY_TOLERANCE = 0.05


@pytest.fixture(scope="module")
def retrained(tmp_path_factory):
    from harness.models.dataset import DatasetConfig
    from harness.models.train import TrainConfig, train_models
    seed = read_metadata(MODELS_DIR / "minmax.json").training["seed"]
    out = tmp_path_factory.mktemp("retrained")
    return {item.metadata.name: item
            for item in train_models(out, None, TrainConfig(seed=seed), DatasetConfig(seed=seed))}


def _committed(name):
    return read_metadata(MODELS_DIR / f"{name}.json")


def test_every_committed_model_is_retrained(retrained):
    assert set(retrained) == {p.stem for p in MODELS_DIR.glob("*.json")}


@pytest.mark.parametrize("name", sorted(p.stem for p in MODELS_DIR.glob("*.json")))
def test_retrained_matches_committed(retrained, name):
    # compare what was written (JSON), not the in-memory export: JSON has null for +-inf clips
    new, old = read_metadata(retrained[name].json_path), _committed(name)
    assert new.ops == old.ops
    for role in ("input", "output"):
        assert new.__dict__[role]["shape"] == old.__dict__[role]["shape"]
        assert new.__dict__[role]["zero_point"] == old.__dict__[role]["zero_point"]
        assert new.__dict__[role]["scale"] == pytest.approx(old.__dict__[role]["scale"], rel=1e-6)
    assert new.scaler == old.scaler
    for kind in ("float", "int8"):
        for cls in old.classes:
            assert new.accuracy[kind]["per_class"][cls] == pytest.approx(
                old.accuracy[kind]["per_class"][cls], abs=ACCURACY_TOLERANCE), (kind, cls)
    if new.versions["tensorflow"] == old.versions["tensorflow"]:
        assert new.files == old.files, "same TensorFlow, different bytes: training is not deterministic"


@pytest.mark.parametrize("name", ["minmax", "two_stage", "minmax_qat"])
def test_float_tflite_matches_keras(retrained, name):
    """The float reference (TFLite Micro on the float .tflite) vs Keras on the same windows."""
    from harness.models.evaluate import held_out_for
    from harness.models.metadata import load_bundle
    from harness.models.references import FloatReference
    item = retrained[name]
    bundle = load_bundle(item.json_path)
    windows = held_out_for(item.metadata).windows_g[:60]
    scaled = bundle.scaler.transform(windows).astype(np.float32)
    keras_scores = item.keras_float_model.predict(scaled, verbose=0)
    tflm_scores = FloatReference(bundle.float_path).predict(scaled).scores
    assert np.abs(keras_scores - tflm_scores).max() < 1e-4
    assert np.array_equal(keras_scores.argmax(axis=1), tflm_scores.argmax(axis=1))
