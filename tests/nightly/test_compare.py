"""The nightly regression rules, the history file, baselines and hil history, without a device."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from harness.cli.main import main
from harness.errors import ConfigError
from harness.nightly.compare import (RegressionThresholds, compare_model, device_findings, nightly_findings,
                                     previous_run, read_baseline, write_baseline)
from harness.nightly.history import append_history, read_history, run_order, run_rows, trend_table

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)


def summary(**models):
    """models: name=(verdict, normal recall, pre_failure recall)."""
    return {"models": [{"model": name, "verdict": v, "recall_device": {"normal": n, "pre_failure": p, "impact": 1.0},
                        "recall_float": {"normal": 0.98, "pre_failure": 0.98, "impact": 1.0},
                        "top1_agreement": n, "exact_share": 1.0, "band_codes": 180, "band_bits": 7.5, "windows": 48}
                       for name, (v, n, p) in models.items()]}


def windows(**costs):
    return pd.DataFrame([{"model": name, "cost": c + d, "cost_unit": "instructions"}
                         for name, c in costs.items() for d in (-10, 0, 10)])


def rows(run_id, when, summ, wins, target="qemu", board="netduinoplus2"):
    return run_rows(summ, wins, run_id=run_id, time_utc=when, git="v0-1-gabc", firmware_build_id="fw1",
                    target=target, board=board, engine="portable")


def row(verdict="OK", normal=0.98, pre=0.99, cost=7_000_000.0, model="robust"):
    return {"model": model, "verdict": verdict, "recall_device_normal": normal, "recall_device_pre_failure": pre,
            "cost_median": cost, "cost_unit": "instructions"}


def test_no_regression_within_thresholds():
    assert compare_model(row(normal=0.94, cost=7_349_000), row(), "prev") == []   # drop 0.04, +4.99 %


def test_accuracy_drop_above_threshold():
    found = compare_model(row(normal=0.90), row(), "previous run r1")
    assert [f.kind for f in found] == ["accuracy"]
    assert str(found[0]) == ("robust: device recall of 'normal' fell from 0.98 to 0.90 (drop 0.08 > 0.05) "
                             "(vs previous run r1)")
    assert compare_model(row(normal=0.90), row(), "p", RegressionThresholds(recall_drop=0.10)) == []


def test_new_collapse_and_degradation():
    kinds = [f.kind for f in compare_model(row("COLLAPSED", normal=0.2), row(), "p")]
    assert kinds == ["accuracy", "collapse"]
    assert [f.kind for f in compare_model(row("DEGRADED"), row(), "p")] == ["collapse"]
    # a model that was already collapsed is not a new collapse; an improvement is not a regression
    assert compare_model(row("COLLAPSED", normal=0.2), row("COLLAPSED", normal=0.2), "p") == []
    assert compare_model(row("OK"), row("DEGRADED", normal=0.5), "p") == []


def test_latency_increase():
    found = compare_model(row(cost=7_400_000), row(), "p")
    assert [f.kind for f in found] == ["latency"] and "+5.7% > 5%" in found[0].message
    assert compare_model(row(cost=7_400_000), row(), "p", RegressionThresholds(cost_increase=0.10)) == []
    # different units (instructions on QEMU, cycles on a board) are not compared
    assert compare_model({**row(cost=9e6), "cost_unit": "cycles"}, row(), "p") == []


def test_history_previous_run_and_findings(tmp_path):
    path = tmp_path / "h.parquet"
    r1 = rows("r1", T0, summary(robust=("OK", 0.98, 0.99), minmax=("COLLAPSED", 0.2, 1.0)),
              windows(robust=7e6, minmax=7e6))
    findings, prev = nightly_findings(r1, read_history(path), None)
    assert (findings, prev) == ([], None)
    append_history(path, r1)
    other = rows("r1b", T0 + timedelta(minutes=5), summary(robust=("OK", 0.5, 0.5)), windows(robust=7e6),
                 board="nucleo")
    append_history(path, other)
    r2 = rows("r2", T0 + timedelta(hours=24), summary(robust=("COLLAPSED", 0.23, 1.0), minmax=("COLLAPSED", 0.2, 1.0)),
              windows(robust=7.7e6, minmax=7e6))
    history = read_history(path)
    assert list(previous_run(history, "qemu", "netduinoplus2")["run_id"].unique()) == ["r1"]  # not the other board's
    findings, prev = nightly_findings(r2, history, None)
    assert prev == "r1"
    assert sorted((f.model, f.kind) for f in findings) == [("robust", "accuracy"), ("robust", "collapse"),
                                                           ("robust", "latency")]
    append_history(path, r2)
    history = read_history(path)
    assert run_order(history) == ["r1", "r1b", "r2"] and len(history) == 5
    assert history.loc[history["run_id"] == "r2", "cost_median"].tolist() == [7.7e6, 7e6]
    table = trend_table(history)
    assert "OK 0.98 7.00M instr" in table and "COLLAPSED 0.23 7.70M instr" in table


@pytest.mark.parametrize("suffix", [".json", ".parquet"])
def test_baseline_pin_and_compare(tmp_path, suffix):
    history = pd.concat([rows("r1", T0, summary(robust=("OK", 0.5, 0.99)), windows(robust=7e6)),
                         rows("r2", T0 + timedelta(hours=1), summary(robust=("OK", 0.98, 0.99)), windows(robust=7e6))])
    pinned = write_baseline(history, tmp_path / f"base{suffix}")
    base = read_baseline(pinned)
    assert base.iloc[0]["recall_device_normal"] == 0.98    # the latest run
    current = rows("r3", T0 + timedelta(hours=2), summary(robust=("OK", 0.9, 0.99)), windows(robust=7e6))
    findings, _ = nightly_findings(current, pd.DataFrame(), base, f"baseline {pinned}")
    assert [(f.kind, f.against) for f in findings] == [("accuracy", f"baseline {pinned}")]
    if suffix == ".json":
        assert json.loads(pinned.read_text())["models"]["robust"]["verdict"] == "OK"


def test_missing_or_bad_baseline(tmp_path):
    with pytest.raises(ConfigError, match="hil history --pin"):
        read_baseline(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="not a nightly baseline"):
        read_baseline(tmp_path / "bad.json")


def test_hil_history_command(tmp_path, capsys):
    path = tmp_path / "h.parquet"
    assert main(["history", "--history", str(path)]) == 2
    append_history(path, rows("r1", T0, summary(robust=("OK", 0.98, 0.99)), windows(robust=7e6)))
    append_history(path, rows("r2", T0 + timedelta(hours=1), summary(robust=("COLLAPSED", 0.23, 1.0)),
                              windows(robust=7e6)))
    plot, pin = tmp_path / "trend.png", tmp_path / "base.json"
    assert main(["history", "--history", str(path), "--plot", str(plot), "--pin", str(pin)]) == 0
    out = capsys.readouterr().out
    assert "2 run(s), 1 model(s)" in out and "OK 0.98" in out and "COLLAPSED 0.23" in out
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert json.loads(pin.read_text())["run_id"] == "r2"


def test_changed_model_file_is_a_note_not_a_regression():
    found = compare_model({**row(), "model_sha256": "b" * 64}, {**row(), "model_sha256": "a" * 64}, "p")
    assert [(f.kind, f.regression) for f in found] == [("changed", False)]
    assert "sha256 aaaaaaaaaaaa -> bbbbbbbbbbbb" in found[0].message


def test_run_options():
    from harness.cli.main import build_parser
    args = build_parser().parse_args(["run", "--target", "pyocd", "--inventory-board", "nucleo-f446re-1", "--nightly"])
    assert (args.inventory_board, args.board, args.nightly, args.history, args.baseline, args.recall_drop, args.cost_increase, args.models_dir) == \
        ("nucleo-f446re-1", None, True, "reports/history.parquet", None, 0.05, 0.05, "")
    args = build_parser().parse_args(["run", "--nightly", "--recall-drop", "0.1", "--cost-increase", "0.02",
                                      "--baseline", "b.json", "--models-dir", "m"])
    assert (args.recall_drop, args.cost_increase, args.baseline, args.models_dir) == (0.1, 0.02, "b.json", "m")


def test_models_dir_points_the_suite_at_another_folder(tmp_path):
    import shutil

    from harness.suite import suite_model as models
    from harness.suite.api import resolve_models
    from harness.suite.config import model_names
    from harness.suite.session import SuiteSession
    for suffix in (".json", ".tflite", ".float.tflite"):
        shutil.copy(models.MODELS_DIR / f"robust{suffix}", tmp_path / f"robust{suffix}")
    assert model_names("", tmp_path) == ["robust"]
    assert "minmax" in model_names("")
    session = SuiteSession(device=None, models_dir=str(tmp_path))
    assert session.model("robust").bundle.json_path == tmp_path / "robust.json"
    assert resolve_models((), tmp_path) == ["robust"]
    empty = tmp_path / "none"
    empty.mkdir()
    assert build_parser_main(["run", "--models-dir", str(empty)]) == 2


def build_parser_main(argv):
    from harness.cli.main import main
    return main(argv)


def test_device_faults_fail_the_night_as_device_findings_not_model_regressions():
    summ = summary(robust=("OK", 0.98, 0.99), minmax=("COLLAPSED", 0.2, 0.99), log1p=("OK", 0.97, 0.98))
    summ["models"][0].update(device_status="DEVICE FAULT", device_faults=2, device_recoveries=1)
    summ["models"][2].update(device_recoveries=3)
    summ["models"].append({"model": "two_stage", "verdict": "ABORTED", "recall_device": {}, "recall_float": {},
                           "band_codes": None, "band_bits": None, "windows": 40, "device_status": "DEVICE FAULT",
                           "device_faults": 0, "device_recoveries": 0,
                           "aborted": "DeviceLostError: probe 0669FF lost (after 40 windows)"})
    current = rows("r2", T0, summ, windows(robust=7e6, minmax=7e6, log1p=7e6, two_stage=7e6))
    assert current.set_index("model")["device_faults"].to_dict() == {"robust": 2, "minmax": 0, "log1p": 0,
                                                                      "two_stage": 0}
    found = device_findings(current)
    assert [(f.model, f.kind, f.regression) for f in found] == [
        ("robust", "device", True), ("robust", "reset", False), ("log1p", "reset", False),
        ("two_stage", "device", True)]
    assert "DEVICE FAULT on 2 window(s)" in str(found[0]) and "not the model" in str(found[0])
    assert "run aborted" in str(found[3]) and "0669FF" in str(found[3])
    # an earlier clean run: the device findings come first, the model comparison is unchanged by them
    previous = rows("r1", T0 - timedelta(days=1), summary(robust=("OK", 0.98, 0.99), minmax=("COLLAPSED", 0.2, 0.99),
                                                          log1p=("OK", 0.97, 0.98), two_stage=("OK", 0.97, 0.98)),
                    windows(robust=7e6, minmax=7e6, log1p=7e6, two_stage=7e6))
    findings, prev_id = nightly_findings(current, previous, None)
    assert prev_id == "r1"
    assert [(f.model, f.kind) for f in findings if f.regression] == [("robust", "device"), ("two_stage", "device")]
