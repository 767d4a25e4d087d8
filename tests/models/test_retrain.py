"""hil train makes the committed fixtures; the float .tflite is the Keras model. Needs TensorFlow.

Retrains every variant (a few minutes on two cores) into a temporary folder and compares it with
fixtures/models by what must hold on any machine (retrain_findings.py): the same ops and
input/output quantization, float recall within tolerance, the min-max model's INT8 collapse, the
good models' INT8 recall beside float, the input-code verdicts. Bit-identical files are asserted
only where the committed model's training fingerprint (TensorFlow and friends, CPU model and the
flags oneDNN dispatches on, the oneDNN setting) equals this machine's: training is deterministic
on one machine, not across CPUs (harness.models.determinism).

The test command retrains the variants that carry every training path (RETRAINED_IN_CI): the
min-max collapse (PTQ), a good PTQ model, quantization-aware training on the min-max float model,
and the 16x8 conversion of both float models. ``HIL_RETRAIN=all`` (the nightly) retrains every
committed variant, adding the other scalers' float models (log1p, two_stage) and robust QAT,
whose scalers are checked against scikit-learn and hand-computed values in tests/quant.
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest
from model_cases import MODELS_DIR, needs_tf
from retrain_findings import assert_no_problems, retrain_problems

from harness.models.determinism import fingerprint_differences, training_fingerprint
from harness.models.metadata import read_metadata

pytestmark = [needs_tf, pytest.mark.timeout(1800)]

COMMITTED = sorted(p.stem for p in MODELS_DIR.glob("*.json"))
# every training path at the cost of two float trainings (see the module docstring)
RETRAINED_IN_CI = ("minmax", "robust", "minmax_qat", "minmax_16x8", "robust_16x8")
RETRAIN_ALL = os.environ.get("HIL_RETRAIN") == "all"
RETRAINED = COMMITTED if RETRAIN_ALL else [name for name in COMMITTED if name in RETRAINED_IN_CI]


def _needs_retrain(name):
    if name not in RETRAINED:
        pytest.skip(f"{name} is retrained with HIL_RETRAIN=all (the nightly); the test command retrains "
                    f"{', '.join(RETRAINED)}, which carry every training path")


@pytest.fixture(scope="module")
def retrained(tmp_path_factory):
    from harness.models.dataset import DatasetConfig
    from harness.models.train import TrainConfig, train_models
    seed = read_metadata(MODELS_DIR / "minmax.json").training["seed"]
    out = tmp_path_factory.mktemp("retrained")
    return {item.metadata.name: item
            for item in train_models(out, RETRAINED, TrainConfig(seed=seed), DatasetConfig(seed=seed))}


@pytest.fixture(scope="module")
def held_out():
    from harness.models.evaluate import held_out_for
    return held_out_for(read_metadata(MODELS_DIR / "minmax.json"))


def _committed(name):
    return read_metadata(MODELS_DIR / f"{name}.json")


def test_every_model_asked_for_is_retrained(retrained):
    assert set(retrained) == set(RETRAINED)
    assert set(RETRAINED_IN_CI) <= set(COMMITTED), "a variant the test command retrains is not committed"


@pytest.mark.parametrize("name", COMMITTED)
def test_retrained_reproduces_the_finding(retrained, held_out, name):
    _needs_retrain(name)
    # compare what was written (JSON), not the in-memory export: JSON has null for +-inf clips
    new, old = read_metadata(retrained[name].json_path), _committed(name)
    assert_no_problems(retrain_problems(name, new, old, held_out, _committed(name).expectations["input_verdict"]), name)
    assert new.training["fingerprint"] == training_fingerprint()


@pytest.mark.parametrize("name", COMMITTED)
def test_retrained_bytes_where_the_fingerprint_matches(retrained, name):
    _needs_retrain(name)
    new, old = read_metadata(retrained[name].json_path), _committed(name)
    differences = fingerprint_differences(old.training.get("fingerprint"), new.training["fingerprint"])
    if differences:
        pytest.skip("bytes are not comparable here: " + "; ".join(differences))
    assert new.files == old.files, "same fingerprint, different bytes: training is not deterministic"


def test_the_check_fails_when_min_max_stops_collapsing(retrained, held_out):
    """A min-max model whose scaler was swapped for robust (the retrained robust model under the
    min-max name) keeps its normal recall and its input codes: the finding check must say so."""
    swapped = replace(read_metadata(retrained["robust"].json_path), name="minmax")
    problems = retrain_problems("minmax", swapped, _committed("minmax"), held_out, _committed("minmax").expectations["input_verdict"])
    assert any(p.startswith("min-max no longer collapses") for p in problems), problems
    assert any(p == "input-code verdict OK, expected COLLAPSED" for p in problems), problems
    assert any("fitted scaler differs" in p for p in problems), problems


def test_the_check_fails_when_a_good_model_collapses(retrained, held_out):
    """The robust check run on the min-max model: its INT8 recall gap and input codes are named."""
    collapsed = replace(read_metadata(retrained["minmax"].json_path), name="robust")
    problems = retrain_problems("robust", collapsed, _committed("robust"), held_out, _committed("robust").expectations["input_verdict"])
    assert any(p.startswith("INT8 recall of normal") for p in problems), problems
    assert "input-code verdict COLLAPSED, expected OK" in problems


@pytest.mark.parametrize("name", ["minmax", "robust", "minmax_qat", "two_stage"])
def test_float_tflite_matches_keras(retrained, name):
    """The float reference (TFLite Micro on the float .tflite) vs Keras on the same windows."""
    _needs_retrain(name)
    from harness.models.evaluate import held_out_for
    from harness.bundle.load import load_bundle
    from harness.models.references import FloatReference
    item = retrained[name]
    bundle = load_bundle(item.json_path)
    windows = held_out_for(item.metadata).windows_g[:60]
    scaled = bundle.scaler.transform(windows).astype(np.float32)
    keras_scores = item.keras_float_model.predict(scaled, verbose=0)
    tflm_scores = FloatReference(bundle.float_path).predict(scaled).scores
    assert np.abs(keras_scores - tflm_scores).max() < 1e-4
    assert np.array_equal(keras_scores.argmax(axis=1), tflm_scores.argmax(axis=1))


def test_training_is_deterministic_on_this_machine(tmp_path):
    """What the byte comparison rests on, checked here on every run: the same seed twice on one
    machine gives the same bytes (a small config, so it costs seconds)."""
    from harness.models.dataset import DatasetConfig, make_dataset
    from harness.models.train import TrainConfig, import_tensorflow, train_variant
    from harness.models.variants import VARIANTS
    tf = import_tensorflow()
    dataset = make_dataset(DatasetConfig(seed=11, train_per_class=40, val_per_class=10, held_out_per_class=10,
                                         calibration_windows=16))
    config = TrainConfig(seed=11, epochs=2)
    first, second = (train_variant(VARIANTS["minmax"], dataset, tmp_path / run, config, tf=tf)
                     for run in ("first", "second"))
    assert first.metadata.files == second.metadata.files
    assert first.metadata.training["fingerprint"] == training_fingerprint()
