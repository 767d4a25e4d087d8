"""Device faults in the suite, end to end on real QEMU: a window the device fails twice is a DEVICE
FAULT (reported apart from the model verdict, never scored), and a run that aborts keeps what it
measured (windows table and an ABORTED summary entry), by exception or by Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd
import pytest
from signalled_child import popen_signalled

from harness.errors import DeviceLostError, ProbeNotFoundError
from harness.firmware.build import build_firmware
from harness.suite.config import SuiteConfig
from harness.suite.outputs import read_summary
from harness.suite.session import ABORTED, SuiteSession
from harness.targets import running_device

REPO = Path(__file__).resolve().parents[2]


def _hil(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "harness.cli.main", *args], cwd=REPO, capture_output=True,
                          text=True, **kwargs)


@pytest.mark.timeout(420)
def test_hil_run_reports_a_device_fault_apart_from_the_model_verdict(tmp_path):
    out, history = tmp_path / "out", tmp_path / "history.parquet"
    result = _hil("run", "--models", "minmax", "--windows", "8", "--sweep-windows", "1", "--window-timeout", "2",
                  "--inject-fault", "hang@mixed:3:persistent", "--out", str(out), "--no-progress",
                  "--nightly", "--history", str(history), timeout=400)
    text = result.stdout + result.stderr
    assert result.returncode == 1, text
    assert "DEVICE FAULT (1 window)" in result.stdout, text
    assert "minmax device (DEVICE FAULT, not the model):" in result.stdout
    assert "mixed window 3: DEVICE FAULT (no reply, again after a reset and a retry)" in result.stdout

    # only the device's own test fails: the model is still judged, on the windows the device answered
    failed = {case.get("name") for case in ElementTree.parse(out / "junit.xml").iter("testcase")
              if case.find("failure") is not None or case.find("error") is not None}
    assert failed == {"test_device_answered_every_window[minmax]"}, failed
    model, = read_summary(out)["models"]
    assert (model["verdict"], model["device_status"], model["device_faults"], model["device_recoveries"]) == \
        ("COLLAPSED", "DEVICE FAULT", 1, 0)
    event, = model["fault_events"]
    assert (event["scenario"], event["window"], event["kind"], event["recovered"]) == ("mixed", 3, "no reply", False)

    windows = pd.read_parquet(out / "windows.parquet")
    faulted = windows[windows["device_fault"]]
    assert faulted[["scenario", "window"]].values.tolist() == [["mixed", 3]]
    assert faulted["device_argmax"].isna().all() and faulted["cost"].isna().all()
    assert faulted["fault"].tolist() == ["no reply: DEVICE FAULT"]
    assert model["windows"] == len(windows) - 1      # every figure leaves the faulted window out

    # nightly: a device finding of this run, worded apart from model regressions; in the history
    assert "DEVICE FAULT on 1 window(s)" in result.stdout and "not the model" in result.stdout
    row, = pd.read_parquet(history).to_dict("records")
    assert (row["device_status"], row["device_faults"], row["verdict"]) == ("DEVICE FAULT", 1, "COLLAPSED")


@pytest.mark.timeout(300)
def test_an_aborted_run_keeps_every_window_it_measured(tmp_path, monkeypatch):
    """The device hangs in 'impact' and the reset fails (a lost probe): the run aborts; the windows
    of 'normal', 'pre_failure' and the first impact windows are still written, with an ABORTED entry."""
    config = SuiteConfig(windows=6, sweep_windows=1, window_timeout_s=1.5, inject_fault="hang@impact:2")
    with running_device("qemu", build_firmware(engine="portable")) as device:
        def probe_gone(timeout_s=None):
            raise ProbeNotFoundError("probe lost while resetting", board="bench-3", probe_uid="0669FF")
        monkeypatch.setattr(device.target, "reset_device", probe_gone)
        session = SuiteSession(device, target="qemu")
        with pytest.raises(DeviceLostError, match="probe 0669FF"):
            session.result("robust", config)
    run, = session.aborted.values()
    assert [s.name for s in run.scenarios] == ["normal", "pre_failure", "impact"]
    assert len(run.scenarios[-1].scenario) == 2 and run.device_lost and "DeviceLostError" in run.aborted
    session.write(tmp_path)
    entry, = read_summary(tmp_path)["models"]
    assert (entry["verdict"], entry["device_status"]) == (ABORTED, "DEVICE FAULT")
    assert entry["scenarios_done"] == ["normal", "pre_failure", "impact"] and "0669FF" in entry["reasons"][0]
    windows = pd.read_parquet(tmp_path / "windows.parquet")
    assert len(windows) == run.windows == entry["windows"]
    assert windows.groupby("scenario", sort=False).size().to_dict()["impact"] == 2
    assert not windows["device_fault"].any()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_run_keeps_the_scenarios_measured_and_stops_the_emulator(tmp_path, signum):
    out = tmp_path / "out"
    proc = popen_signalled([sys.executable, "-m", "harness.cli.main", "run", "--models", "robust", "--windows", "48",
                             "--sweep-windows", "4", "--out", str(out)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        seen = ""
        while "[2/5]" not in seen:            # two scenarios measured
            line = proc.stderr.readline()
            assert line and time.monotonic() < deadline, seen
            seen += line
        emulators = subprocess.run(["pgrep", "-P", str(proc.pid), "qemu-system-arm"], capture_output=True,
                                   text=True).stdout.split()
        assert len(emulators) == 1, emulators
        if signum == signal.SIGINT:
            os.killpg(proc.pid, signum)       # as a terminal's Ctrl-C: the whole process group
        else:
            proc.send_signal(signum)          # as a CI job's timeout or kill: the hil process
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode != 0
    entry, = json.loads((out / "summary.json").read_text())["models"]
    assert entry["verdict"] == ABORTED and "KeyboardInterrupt" in entry["aborted"], entry
    if signum == signal.SIGTERM:
        assert "signal SIGTERM" in entry["aborted"], entry
    assert entry["scenarios_done"][:2] == ["normal", "pre_failure"]
    windows = pd.read_parquet(out / "windows.parquet")
    assert len(windows) == entry["windows"] >= 2 * 16
    assert not Path(f"/proc/{emulators[0]}").exists(), f"QEMU {emulators[0]} outlived hil run"
