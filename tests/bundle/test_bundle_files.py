"""Bundles on the host: hil bundle, the loader's errors (file and field), scikit-learn scalers
against scikit-learn itself, the team's recordings, and models folders that hold other files."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
from bundle_cases import ACTIVITY, bundle_args, hil, make_bundle

from harness.bundle.recordings import read_recording
from harness.bundle.sklearn_import import from_sklearn
from harness.errors import BundleError, TraceError
from harness.bundle.load import list_bundles, load_bundle


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundles")
    return {v: make_bundle(v, folder) for v in ("minmax", "robust")}


def test_hil_bundle_reads_the_model_and_the_team_s_facts(bundles):
    bundle = load_bundle(bundles["robust"])
    meta, spec = bundle.metadata, bundle.spec
    assert meta.classes == ["idle", "walking", "running", "handling"]
    assert (meta.window["length"], spec.window_hop, spec.sensor.rate_hz) == (32, 16, 50.0)
    assert meta.ops == ["RESHAPE", "CONV_2D", "MAX_POOL_2D", "MEAN", "FULLY_CONNECTED", "SOFTMAX"]
    assert meta.input["dtype"] == "int8" and meta.input["shape"] == [1, 32, 3]
    assert bundle.scaler.name == "robust" and bundle.scaler.params["clip_hi"] == 8.0
    assert spec.watched_classes == tuple(meta.classes) and spec.band_g == (0.2, 1.5)
    assert not spec.expectations.given
    assert spec.sensor.axes == ("acc_x", "acc_y", "acc_z") and spec.data.recordings[0].label_column == "activity"


@pytest.mark.parametrize("kind", ["MinMaxScaler", "RobustScaler", "StandardScaler"])
def test_scikit_learn_scalers_give_scikit_learn_s_numbers(kind):
    """The oracle is scikit-learn's own transform on the same samples."""
    from sklearn import preprocessing
    calibration = read_recording(load_bundle_spec_calibration(), sensor()).g
    estimator = getattr(preprocessing, kind)().fit(calibration)
    scaler = from_sklearn(estimator)
    rng = np.random.default_rng(3)
    samples = rng.normal(0.0, 2.0, size=(500, 3))
    np.testing.assert_allclose(scaler.transform(samples), estimator.transform(samples), rtol=1e-12, atol=1e-12)
    exported = scaler.export()
    assert exported["kind"] == {"MinMaxScaler": "minmax", "RobustScaler": "robust", "StandardScaler": "zscore"}[kind]


def test_the_committed_pickles_are_the_committed_scalers():
    for variant, clip in (("minmax", None), ("robust", (-8.0, 8.0))):
        estimator = pickle.loads((ACTIVITY / f"scaler_{variant}.pkl").read_bytes())
        scaler = from_sklearn(estimator, clip)
        samples = read_recording(load_bundle_spec_calibration(), sensor()).g
        expected = estimator.transform(samples)
        if clip:
            expected = np.clip(expected, *clip)
        np.testing.assert_allclose(scaler.transform(samples), expected, rtol=1e-12, atol=1e-12)


def test_unsupported_scikit_learn_scaler_names_the_field():
    from sklearn.preprocessing import MinMaxScaler
    estimator = MinMaxScaler(feature_range=(-1, 1)).fit(np.arange(12.0).reshape(4, 3))
    with pytest.raises(BundleError, match="feature_range") as err:
        from_sklearn(estimator, path="s.pkl")
    assert err.value.field == "scaler"


def sensor():
    from harness.bundle.spec import Sensor
    return Sensor(("acc_x", "acc_y", "acc_z"), 50.0, 2048.0, 16.0)


def load_bundle_spec_calibration():
    from harness.bundle.spec import Recording
    return Recording(ACTIVITY / "calibration.csv", "", ("acc_x", "acc_y", "acc_z"), "g")


def _edit(path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("edit, field", [
    (lambda d: d["sensor"].update(counts_per_g=-1), "sensor.counts_per_g"),
    (lambda d: d["sensor"].update(axes=["x", "y"]), "sensor.axes"),
    (lambda d: d.update(watched_classes=["idle", "sleeping"]), "watched_classes"),
    (lambda d: d["data"]["recordings"][0].update(file="missing.csv"), "data.recordings[0].file"),
    (lambda d: d["data"]["recordings"][0].pop("label_column"), "data.recordings[0].label_column"),
    (lambda d: d.pop("data"), "data"),
    (lambda d: d.update(band_g=[1.5, 0.2]), "band_g"),
    (lambda d: d.update(expectations={"verdict": "FINE"}), "expectations.verdict"),
    (lambda d: d.update(classes=["idle", "walking"]), "classes"),
    (lambda d: d.update(format=7), "format"),
], ids=["counts_per_g", "axes", "watched", "recording-file", "label-column", "data", "band", "expectation",
        "classes", "format"])
def test_a_malformed_bundle_names_its_file_and_field(bundles, tmp_path, edit, field):
    path = tmp_path / "activity_robust.json"
    data = json.loads(bundles["robust"].read_text())
    for role in ("int8", "float"):   # keep the model files reachable from the copy
        data["files"][role]["name"] = str((bundles["robust"].parent / data["files"][role]["name"]).resolve())
    for key in ("calibration",):
        data["data"][key]["file"] = str((bundles["robust"].parent / data["data"][key]["file"]).resolve())
    for recording in data["data"]["recordings"]:
        recording["file"] = str((bundles["robust"].parent / recording["file"]).resolve())
    path.write_text(json.dumps(data))
    _edit(path, edit)
    with pytest.raises(BundleError) as err:
        load_bundle(path)
    assert (err.value.path, err.value.field) == (str(path), field), str(err.value)


def test_hil_run_on_a_malformed_bundle_exits_2_with_one_line_before_any_device_work(bundles, tmp_path):
    path = tmp_path / "bad.json"
    data = json.loads(bundles["robust"].read_text())
    data["sensor"]["full_scale_g"] = "sixteen"
    path.write_text(json.dumps(data))
    result = hil(["run", "--bundle", str(path), "--out", str(tmp_path / "out"), "--target", "no-such-target"], tmp_path)
    # the target is never reached: the bundle is refused first (an unknown target would say so)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and str(path) in result.stderr and "sensor.full_scale_g" in result.stderr
    assert not (tmp_path / "out" / "summary.json").exists()


def test_a_models_folder_with_other_json_or_a_lone_tflite_is_refused(bundles, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    made = make_bundle("robust", folder)
    (folder / "scaler_robust.json").write_text((ACTIVITY / "scaler_robust.json").read_text())
    with pytest.raises(BundleError, match="is a JSON object with keys .*, not a model bundle") as err:
        list_bundles(folder)
    assert err.value.path == str(folder / "scaler_robust.json")
    result = hil(["run", "--models-dir", str(folder), "--out", str(tmp_path / "out")], tmp_path)
    assert result.returncode == 2 and "scaler_robust.json" in result.stderr and result.stderr.count("\n") == 1
    (folder / "scaler_robust.json").unlink()
    (folder / "orphan.tflite").write_bytes((ACTIVITY / "activity_minmax.tflite").read_bytes())
    with pytest.raises(BundleError, match="orphan.tflite has no bundle JSON"):
        list_bundles(folder)
    assert made.is_file()


def test_a_recording_with_a_label_outside_the_classes_names_row_and_column(tmp_path):
    frame = pd.read_csv(ACTIVITY / "recording.csv")
    frame.loc[41, "activity"] = "Standing"
    path = tmp_path / "rec.csv"
    frame.to_csv(path, index=False)
    from harness.bundle.spec import Recording
    with pytest.raises(TraceError, match="'Standing' is not one of the bundle's classes") as err:
        read_recording(Recording(path, "activity", ("acc_x", "acc_y", "acc_z"), "g"), sensor(),
                       ["idle", "walking", "running", "handling"])
    assert (err.value.row, err.value.column) == (41, "activity") and "file line 43" in str(err.value)


def test_m_s2_with_gravity_removed_read_as_g_is_refused(tmp_path):
    """The smartwatch case: gravity removed, so the magnitude is no 9.8 - still far too big for g."""
    frame = pd.read_csv(ACTIVITY / "recording.csv")
    moving = frame[frame["activity"].isin(["walking", "running"])].copy()
    for axis in ("acc_x", "acc_y", "acc_z"):
        moving[axis] *= 9.80665
    path = tmp_path / "ms2.csv"
    moving.to_csv(path, index=False)
    from harness.bundle.spec import Recording
    with pytest.raises(TraceError, match="declare units 'm/s2'"):
        read_recording(Recording(path, "activity", ("acc_x", "acc_y", "acc_z"), "g"), sensor())
    data = read_recording(Recording(path, "activity", ("acc_x", "acc_y", "acc_z"), "m/s2"), sensor())
    np.testing.assert_allclose(data.g, frame[frame["activity"].isin(["walking", "running"])][
        ["acc_x", "acc_y", "acc_z"]].to_numpy(), rtol=1e-12)
