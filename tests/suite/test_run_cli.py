"""hil run's command line: the pytest arguments it builds, help, and the verdict table text."""

from __future__ import annotations

from pathlib import Path

from harness.cli.main import build_parser
from harness.cli.commands.run import pytest_arguments
from harness.suite.acceptance import MODULE
from harness.suite.outputs import verdict_table


def test_defaults_and_pytest_arguments(tmp_path):
    args = build_parser().parse_args(["run", "--models", "minmax,robust", "--out", str(tmp_path), "--", "-k", "verdict"])
    assert (args.target, args.board, args.engine, args.windows, args.sweep_windows) == \
        ("qemu", "netduinoplus2", "portable", 64, 3)
    argv = pytest_arguments(args, Path(tmp_path), progress_fd=7)
    assert argv[0] == str(MODULE) and MODULE.is_file()
    for expected in (f"--html={tmp_path / 'report.html'}", "--self-contained-html", f"--junitxml={tmp_path / 'junit.xml'}",
                     "--hil-target=qemu", "--hil-windows=64", "--hil-sweep-windows=3", "--hil-models=minmax,robust",
                     f"--hil-suite-out={tmp_path}", "--hil-progress=fd:7", "--hil-engine=portable"):
        assert expected in argv
    assert argv[-2:] == ["-k", "verdict"]
    assert not any(a.startswith("--hil-progress") for a in pytest_arguments(args, Path(tmp_path), None))


def test_verdict_table_text():
    summary = {"model": "minmax", "scaler": "minmax", "method": "PTQ", "verdict": "COLLAPSED", "band_codes": 33,
               "band_bits": 5.04, "recall_float": {"normal": 0.97, "pre_failure": 0.95, "impact": 1.0},
               "recall_device": {"normal": 0.16, "pre_failure": 1.0, "impact": 1.0},
               "reasons": ["0.2-1.5 g band uses 33 of 256 codes (5.0 bits) on az_g: calibration range 8.92 g"]}
    lines = verdict_table([summary, {**summary, "model": "minmax_qat", "method": "QAT", "verdict": "DEGRADED"}],
                          reason_width=40).splitlines()
    assert lines[0].split()[:4] == ["model", "scaler", "verdict", "band"]
    assert lines[1].split()[:7] == ["minmax", "minmax", "COLLAPSED", "33/256", "5.0", "0.97/0.16", "0.95/1.00"]
    assert lines[2].split()[:4] == ["minmax_qat", "minmax", "QAT", "DEGRADED"]
    assert lines[1].endswith("0.2-1.5 g band uses 33 of 256 codes (...")


def test_device_fault_options_reach_pytest(tmp_path):
    args = build_parser().parse_args(["run", "--window-timeout", "2.5", "--inject-fault", "hang@mixed:3:persistent",
                                      "--out", str(tmp_path)])
    argv = pytest_arguments(args, Path(tmp_path), None)
    assert "--hil-window-timeout=2.5" in argv and "--hil-inject-fault=hang@mixed:3:persistent" in argv
    defaults = pytest_arguments(build_parser().parse_args(["run", "--out", str(tmp_path)]), Path(tmp_path), None)
    assert not any(a.startswith(("--hil-window-timeout", "--hil-inject-fault")) for a in defaults)


def test_suite_config_checks_the_fault_options():
    import pytest

    from harness.errors import ConfigError
    from harness.suite.config import SuiteConfig
    assert SuiteConfig(window_timeout_s=2.0, inject_fault="crash@impact:0").to_dict()["inject_fault"] == "crash@impact:0"
    with pytest.raises(ConfigError, match="window timeout must be > 0"):
        SuiteConfig(window_timeout_s=0)
    with pytest.raises(ConfigError, match="fault injection 'boom@1'"):
        SuiteConfig(inject_fault="boom@1")


def test_verdict_tables_show_the_device_apart_from_the_model():
    from harness.suite.outputs import device_cell, verdict_table_html
    base = {"model": "robust", "scaler": "robust", "method": "PTQ", "verdict": "OK", "band_codes": 162,
            "band_bits": 7.3, "recall_float": {"normal": 1.0, "pre_failure": 0.95},
            "recall_device": {"normal": 1.0, "pre_failure": 0.95}, "exact_share": 1.0,
            "reasons": ["0.2-1.5 g band uses 162 of 256 codes"]}
    faulted = {**base, "device_status": "DEVICE FAULT", "device_faults": 1, "device_recoveries": 2,
               "device_reasons": ["mixed window 3: DEVICE FAULT (no reply, again after a reset and a retry): <x>"]}
    aborted = {**base, "model": "log1p", "verdict": "ABORTED", "band_codes": None, "band_bits": None,
               "exact_share": None, "recall_float": {}, "recall_device": {}, "device_faults": 0,
               "aborted": "DeviceLostError: probe lost", "reasons": ["run aborted: DeviceLostError: probe lost"],
               "device_reasons": ["run aborted: DeviceLostError: probe lost"]}
    assert [device_cell(s) for s in (base, faulted, aborted)] == ["ok", "DEVICE FAULT (1 window), 2 resets", "ABORTED"]
    lines = verdict_table([base, faulted, aborted]).splitlines()
    assert lines[0].split()[-2:] == ["device", "reason"]
    assert "ok" in lines[1].split() and "DEVICE FAULT (1 window), 2 resets" in lines[2]
    assert lines[3].split()[:5] == ["log1p", "robust", "ABORTED", "-", "-"]
    html = verdict_table_html([faulted, aborted])
    assert "<th>device</th>" in html and "DEVICE FAULT (1 window), 2 resets<ul" in html
    assert "&lt;x&gt;" in html and html.count("run aborted: DeviceLostError") == 1   # listed once, not twice
