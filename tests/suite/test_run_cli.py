"""hil run's command line: its options (one table with the plugin's), and the verdict table text."""

from __future__ import annotations

from pathlib import Path

from harness.cli.main import build_parser
from harness.suite.outputs import verdict_table


def test_defaults_come_from_the_one_option_table(tmp_path):
    """hil run's suite options and the plugin's are one table (harness.suite.config.SUITE_OPTIONS),
    so their defaults cannot drift apart."""
    from harness.cli.commands.run import requested_models, suite_config
    from harness.suite.config import OPTIONS, SUITE_OPTIONS, SuiteConfig
    args = build_parser().parse_args(["run", "--models", "minmax,robust", "--bundle", "b.json", "--out", str(tmp_path)])
    # --board None: harness.boards.selection picks the firmware board (netduinoplus2 on emulators)
    assert (args.target, args.board, args.inventory_board, args.engine, args.windows, args.sweep_windows) == \
        ("qemu", None, None, "portable", 64, 3)
    for option in SUITE_OPTIONS:
        assert OPTIONS[option.name][0] == str(option.default)
        if option.cli and option.name != "models":
            assert getattr(args, option.name) == option.default
    assert suite_config(args) == SuiteConfig()
    assert requested_models(args) == ["minmax", "robust", str((Path.cwd() / "b.json").resolve())]


def test_verdict_table_text():
    summary = {"model": "minmax", "scaler": "minmax", "method": "PTQ", "verdict": "COLLAPSED", "band_codes": 33,
               "band_bits": 5.04, "recall_float": {"normal": 0.97, "pre_failure": 0.95, "impact": 1.0},
               "recall_device": {"normal": 0.16, "pre_failure": 1.0, "impact": 1.0},
               "reasons": ["0.2-1.5 g band uses 33 of 256 codes (5.0 bits) on az_g: calibration range 8.92 g"]}
    summary["watched_classes"] = ["normal", "pre_failure"]
    lines = verdict_table([summary, {**summary, "model": "minmax_qat", "method": "QAT", "verdict": "DEGRADED"}],
                          reason_width=40).splitlines()
    assert lines[0].split()[:4] == ["model", "scaler", "verdict", "band"]
    assert lines[1].split()[:7] == ["minmax", "minmax", "COLLAPSED", "33/256", "5.0", "0.97/0.16", "0.95/1.00"]
    assert lines[2].split()[:4] == ["minmax_qat", "minmax", "QAT", "DEGRADED"]
    assert lines[1].endswith("0.2-1.5 g band uses 33 of 256 codes (...")


def test_device_fault_options_reach_the_suite_config(tmp_path):
    from harness.cli.commands.run import suite_config
    args = build_parser().parse_args(["run", "--window-timeout", "2.5", "--inject-fault", "hang@mixed:3:persistent",
                                      "--band", "0.1:1", "--collapsed-bits", "5", "--out", str(tmp_path)])
    config = suite_config(args)
    assert (config.window_timeout_s, config.inject_fault) == (2.5, "hang@mixed:3:persistent")
    assert (config.band.lo_g, config.band.hi_g, config.thresholds.input.collapsed_bits) == (0.1, 1.0, 5.0)


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
            "reasons": ["0.2-1.5 g band uses 162 of 256 codes"], "watched_classes": ["normal", "pre_failure"]}
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
