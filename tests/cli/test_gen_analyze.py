"""hil gen and hil analyze, end to end through the CLI entry point."""

from __future__ import annotations

import json

import pytest

from harness.cli.main import main


@pytest.fixture(scope="module")
def impact_trace(tmp_path_factory):
    path = tmp_path_factory.mktemp("gen") / "impact.parquet"
    assert main(["gen", "--scenario", "impact", "--seconds", "60", "--seed", "1", "--out", str(path)]) == 0
    return path


def test_gen_writes_csv(tmp_path, capsys):
    out = tmp_path / "t.csv"
    assert main(["gen", "--scenario", "mixed", "--seconds", "3", "--seed", "2", "--out", str(out),
                 "--shock-at", "1.0"]) == 0
    text = capsys.readouterr().out
    assert "samples: 4800" in text and "impact=" in text
    assert out.read_text().startswith("time_s,ax_g,ay_g,az_g,label,event_id")


def test_analyze_table_flags_minmax_and_passes_robust(impact_trace, capsys, tmp_path):
    plot = tmp_path / "a.png"
    assert main(["analyze", "--trace", str(impact_trace), "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line and line.split()[0] in
            ("minmax", "zscore", "robust", "log1p", "two_stage")}
    assert rows["minmax"].endswith("COLLAPSED") and rows["robust"].endswith("OK")
    assert rows["two_stage"].endswith("OK")
    assert "minmax: COLLAPSED: 0.2-1.5 g band uses" in out
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:4] == b"\x89PNG"


def test_analyze_json_with_separate_calibration(impact_trace, tmp_path, capsys):
    normal = tmp_path / "normal.csv"
    assert main(["gen", "--scenario", "normal", "--seconds", "10", "--seed", "3", "--out", str(normal)]) == 0
    capsys.readouterr()
    assert main(["analyze", "--trace", str(normal), "--calibration", str(impact_trace),
                 "--scaler", "minmax", "--scaler", "robust:clip_lo=-1,clip_hi=1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    verdicts = {s["scaler"]: s["verdict"]["status"] for s in report["scalers"]}
    assert verdicts == {"minmax": "COLLAPSED", "robust:clip_lo=-1,clip_hi=1": "COLLAPSED"}
    assert report["band"] == {"lo_g": 0.2, "hi_g": 1.5}


@pytest.mark.parametrize("argv, message", [
    (["--scaler", "minmix"], "unknown scaler 'minmix'; known scalers"),
    (["--band", "1.5:0.2"], "band must"),
])
def test_analyze_errors_are_clear(impact_trace, capsys, argv, message):
    assert main(["analyze", "--trace", str(impact_trace), *argv]) == 2
    assert message in capsys.readouterr().err


def test_analyze_missing_and_empty_traces(tmp_path, capsys):
    assert main(["analyze", "--trace", str(tmp_path / "none.csv")]) == 2
    assert "file not found" in capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_text("time_s,ax_g,ay_g,az_g,label,event_id\n")
    assert main(["analyze", "--trace", str(empty)]) == 2
    assert "empty" in capsys.readouterr().err
