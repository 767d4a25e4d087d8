"""hil analyze, infer, replay and models on a team's own bundle (tests/data/activity: 4 classes,
32-sample windows at 50 Hz, hop 16, columns acc_x,acc_y,acc_z, label column ``activity``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bundle"))
from bundle_cases import ACTIVITY, make_bundle  # noqa: E402

from harness.cli.main import main  # noqa: E402
from harness.cli.options import parse_columns  # noqa: E402

CLASSES = ["idle", "walking", "running", "handling"]
G = 9.80665


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return make_bundle("robust", tmp_path_factory.mktemp("activity"))


@pytest.fixture(scope="module")
def recording() -> pd.DataFrame:
    return pd.read_csv(ACTIVITY / "recording.csv")


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_columns_take_pairs_or_the_axis_list():
    assert parse_columns("acc_x,acc_y,acc_z") == {"ax_g": "acc_x", "ay_g": "acc_y", "az_g": "acc_z"}
    assert parse_columns("time_s=t,ax_g=X,label=state") == {"time_s": "t", "ax_g": "X", "label": "state"}


# --- analyze -----------------------------------------------------------------------------------

def test_analyze_takes_the_recording_calibration_band_and_scaler_from_the_bundle(bundle, capsys):
    status, out, err = run_cli(capsys, "analyze", "--bundle", bundle, "--json", "--scaler", "minmax")
    assert status == 0, err
    report = json.loads(out)
    assert report["classes"] == CLASSES
    assert report["trace"].endswith("recording.csv") and report["calibration"].endswith("calibration.csv")
    assert [s["scaler"] for s in report["scalers"]] == ["activity_robust (bundle)", "minmax"]
    own = report["scalers"][0]
    # the bundle's row uses the model's own INT8 input quantization, not a recalibration
    meta = json.loads(bundle.read_text())
    assert own["input_params"]["scale"] == pytest.approx(meta["input"]["scale"])
    assert own["verdict"]["status"] == "OK"


def test_analyze_labels_outside_the_classes_name_row_and_column(bundle, recording, tmp_path, capsys):
    bad = recording.copy()
    bad.loc[1234, "activity"] = "Standing"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    status, _, err = run_cli(capsys, "analyze", "--bundle", bundle, "--trace", tmp_path / "bad.csv")
    assert status == 2
    assert "row 1234, column 'activity'" in err and "unknown label 'Standing'" in err
    assert "idle, walking, running, handling" in err and "file line 1236" in err


def test_analyze_m_s2_with_gravity_removed_read_as_g_is_caught(bundle, recording, tmp_path, capsys):
    moving = recording[recording["activity"].isin(["walking", "running", "handling"])].copy()
    moving[["acc_x", "acc_y", "acc_z"]] *= G          # the team's export in m/s^2, gravity removed
    moving["t_s"] = np.arange(len(moving)) / 50.0
    moving.to_csv(tmp_path / "ms2.csv", index=False)
    magnitude = float(np.median(np.linalg.norm(moving[["acc_x", "acc_y", "acc_z"]].to_numpy(), axis=1)))
    assert 2.5 < magnitude < 5.0                     # below the old rule's 5-20 window
    status, _, err = run_cli(capsys, "analyze", "--bundle", bundle, "--trace", tmp_path / "ms2.csv")
    assert status == 2 and "gravity removed; declare units 'm/s2'" in err
    status, out, err = run_cli(capsys, "analyze", "--bundle", bundle, "--trace", tmp_path / "ms2.csv",
                               "--units", "m/s2", "--scaler", "robust")
    assert status == 0, err


# --- replay ------------------------------------------------------------------------------------

def test_replay_uses_the_bundle_window_hop_classes_and_layout(bundle, tmp_path, capsys):
    out_dir = tmp_path / "replay"
    status, out, err = run_cli(capsys, "replay", "--bundle", bundle, "--trace", ACTIVITY / "recording.csv",
                               "--no-device", "--quiet", "--out", out_dir)
    assert status == 0, err
    report = json.loads((out_dir / "report.json").read_text())
    rows = len(pd.read_csv(ACTIVITY / "recording.csv"))
    assert report["summary"]["windows"] == (rows - 32) // 16 + 1      # 32-sample windows every 16
    journal = next(out_dir.glob("triage-*.jsonl"))
    header = json.loads(journal.read_text().splitlines()[0])
    assert header["classes"] == CLASSES and header["model"]["counts_per_g"] == 2048.0
    assert header["params"]["window_len"] == 32 and header["params"]["hop"] == 16
    assert header["params"]["rate_hz"] == 50.0
    for d in report["disagreements"]:
        assert d["float_class"] in CLASSES and d["int8_class"] in CLASSES and d["label"] in CLASSES


def test_replay_labels_outside_the_classes_name_row_and_column(bundle, recording, tmp_path, capsys):
    bad = recording.copy()
    bad.loc[5000, "activity"] = "Standing"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    status, _, err = run_cli(capsys, "replay", "--bundle", bundle, "--trace", tmp_path / "bad.csv",
                             "--no-device", "--quiet", "--out", tmp_path / "out", "--chunk-rows", "1024")
    assert status == 2
    assert "row 5000, column 'activity'" in err and "unknown label 'Standing'" in err
    assert "idle, walking, running, handling" in err


def test_replay_other_columns_and_units_with_the_shared_options(bundle, recording, tmp_path, capsys):
    renamed = recording.rename(columns={"t_s": "time", "acc_x": "X", "acc_y": "Y", "acc_z": "Z", "activity": "state"})
    renamed[["X", "Y", "Z"]] *= 1000.0
    renamed.to_parquet(tmp_path / "mg.parquet", index=False)
    status, _, err = run_cli(capsys, "replay", "--bundle", bundle, "--trace", tmp_path / "mg.parquet",
                             "--columns", "time_s=time,ax_g=X,ay_g=Y,az_g=Z,label=state", "--units", "mg",
                             "--no-device", "--quiet", "--out", tmp_path / "out")
    assert status == 0, err
    assert json.loads((tmp_path / "out" / "report.json").read_text())["summary"]["windows"] == 467


def test_replay_needs_one_model(tmp_path, capsys):
    status, _, err = run_cli(capsys, "replay", "--trace", ACTIVITY / "recording.csv", "--no-device",
                             "--out", tmp_path)
    assert status == 2 and "--bundle FILE.json" in err


# --- models ------------------------------------------------------------------------------------

def test_models_lists_a_team_bundle_and_table_says_what_it_lacks(bundle, capsys):
    status, out, err = run_cli(capsys, "models", "--dir", bundle.parent)
    assert status == 0, err
    line = next(line for line in out.splitlines() if line.startswith("activity_robust"))
    sha = json.loads(bundle.read_text())["files"]["int8"]["sha256"]
    for part in ("classes=idle,walking,running,handling", "window=32@50Hz hop 16", "input [1, 32, 3]",
                 "zp=-1", f"sha256={sha[:12]}", "ops=RESHAPE,CONV_2D"):
        assert part in line
    status, out, err = run_cli(capsys, "models", "--dir", bundle.parent, "--table")
    assert status == 1
    assert "activity_robust: no table: --table needs the training provenance (held_out" in out


def test_models_lists_a_bundle_without_file_sizes(bundle, tmp_path, capsys):
    data = json.loads(bundle.read_text())
    for entry in data["files"].values():
        entry.pop("bytes", None)
        entry["name"] = str((bundle.parent / entry["name"]).resolve())
    data["data"]["calibration"]["file"] = str(ACTIVITY / "calibration.csv")
    data["data"]["recordings"][0]["file"] = str(ACTIVITY / "recording.csv")
    (tmp_path / "team.json").write_text(json.dumps(data))
    status, out, err = run_cli(capsys, "models", "--dir", tmp_path)
    assert status == 0, err
    assert "activity_robust" in out and "5744 B" in out


# --- infer on QEMU -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pipeline_image():
    from harness.firmware.build import build_firmware
    return build_firmware(engine="portable")


@pytest.mark.hil_device
def test_infer_a_labelled_recording_with_the_bundle(pipeline_image, bundle, recording, tmp_path, capsys):
    from harness.replay.triage import HostTriage
    short = recording.iloc[3800:4000]      # 200 rows across a label change (3957): 11 windows
    short.to_csv(tmp_path / "short.csv", index=False)
    out = tmp_path / "out.npz"
    status, text, err = run_cli(capsys, "infer", "--elf", pipeline_image.elf, "--bundle", bundle,
                                "--input", tmp_path / "short.csv", "--output", out)
    assert status == 0, err
    assert "windows: 11" in text and "bundle: activity_robust (4 classes, counts_per_g 2048)" in text
    saved = np.load(out)
    assert list(saved["window"]) == list(range(11)) and list(saved["classes"]) == CLASSES
    np.testing.assert_allclose(saved["start_s"], short["t_s"].to_numpy()[np.arange(11) * 16])
    expected = [pd.Series(short["activity"].to_numpy()[k * 16:k * 16 + 32]).value_counts().index[0]
                for k in range(11)]
    assert list(saved["label"]) == expected and set(expected) <= set(CLASSES)
    # the device ran the bundle's fold on the sensor's counts: its outputs are the host INT8 reference's
    triage = HostTriage(bundle)
    g = short[["acc_x", "acc_y", "acc_z"]].to_numpy()
    counts = triage.counts(np.stack([g[k * 16:k * 16 + 32] for k in range(11)]))
    host = triage.int8_reference.predict_codes(triage.input_codes(counts))
    assert np.array_equal(saved["outputs"].reshape(11, -1), host.codes)

    status, text, err = run_cli(capsys, "infer", "--elf", pipeline_image.elf, "--bundle", bundle,
                                "--input", tmp_path / "short.csv", "--output", tmp_path / "out.csv")
    assert status == 0, err
    table = pd.read_csv(tmp_path / "out.csv")
    assert list(table.columns[:4]) == ["window", "start_s", "label", "class"]
    assert list(table["label"]) == expected and set(table["class"]) <= set(CLASSES)
    assert [f"out_{c}" for c in CLASSES] == [c for c in table.columns if c.startswith("out_")]


def test_replay_shrinks_a_bundle_disagreement_into_a_case_that_reproduces(bundle, tmp_path, capsys):
    from harness.replay.cases import case_triage, check_case_on_host, load_case
    status, out, err = run_cli(capsys, "replay", "--bundle", bundle, "--trace", ACTIVITY / "recording.csv",
                               "--no-device", "--quiet", "--out", tmp_path / "out", "--shrink", "team_case",
                               "--cases-dir", tmp_path / "cases")
    assert status == 0, err
    case_path = tmp_path / "cases" / "team_case.json"
    assert json.loads(case_path.read_text())["bundle"].endswith("activity_robust.json")
    triage = case_triage(case_path)
    case = load_case(case_path, triage)
    assert case.windows_g.shape[1:] == (32, 3) and check_case_on_host(case, triage) == []
