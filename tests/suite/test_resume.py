"""Nothing measured is lost, even to SIGKILL: ``hil run`` journals every window as it arrives
(``<out>/journal.jsonl``), and ``hil run --resume`` after a ``kill -9`` mid-scenario gives the
report of an uninterrupted run with the same arguments, field for field (timing aside); no QEMU
outlives the killed run; a journal of another run is refused, and a resume without one says so."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from signalled_child import popen_signalled

from harness.errors import ConfigError
from harness.suite.journal import JOURNAL_NAME, SuiteJournal, decode_array, encode_array

REPO = Path(__file__).resolve().parents[2]
ARGS = ("--models", "minmax,robust", "--windows", "12", "--sweep-windows", "1")
SCENARIOS = ("normal", "pre_failure", "impact", "mixed", "shock_sweep")
TIMING_KEYS = {"timing", "phases_s", "wall_s", "streaming_share", "jobs", "windows_per_s", "device_seconds",
               "reset_s"}


def _hil(*args, timeout=400):
    return subprocess.run([sys.executable, "-m", "harness.cli.main", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


def _journal_lines(out: Path) -> list[dict]:
    path = out / JOURNAL_NAME
    if not path.is_file():
        return []
    lines = []
    for raw in path.read_bytes().splitlines(keepends=True):
        if raw.endswith(b"\n"):
            lines.append(json.loads(raw))
    return lines


def _windows_of(lines, scenario: str) -> int:
    return sum(line["n"] for line in lines if line.get("kind") == "windows" and line["scenario"] == scenario)


def _without_timing(value):
    if isinstance(value, dict):
        return {k: _without_timing(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [_without_timing(v) for v in value]
    return value


def _dead(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _assert_same_report(reference: Path, resumed: Path) -> None:
    pd.testing.assert_frame_equal(pd.read_parquet(reference / "windows.parquet"),
                                  pd.read_parquet(resumed / "windows.parquet"))
    ref, res = (json.loads((d / "summary.json").read_text()) for d in (reference, resumed))
    assert ref["config"] == res["config"] and ref["target"] == res["target"]
    assert len(ref["models"]) == len(res["models"]) == 2
    for a, b in zip(ref["models"], res["models"]):
        a, b = _without_timing(a), _without_timing(b)
        for key in a.keys() | b.keys():       # field by field: a failure names the field
            assert a.get(key) == b.get(key), (a["model"], key)
    with np.load(reference / "input_codes.npz") as a, np.load(resumed / "input_codes.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The reference: an uninterrupted run per --jobs value, the same arguments."""
    runs = {}

    def run(jobs: int) -> Path:
        if jobs not in runs:
            out = tmp_path_factory.mktemp(f"uninterrupted-jobs{jobs}")
            result = _hil("run", *ARGS, "--jobs", str(jobs), "--out", str(out), "--no-progress")
            assert result.returncode == 0, result.stdout + result.stderr
            runs[jobs] = out
        return runs[jobs]
    return run


@pytest.mark.timeout(600)
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_run_killed_mid_scenario_resumes_to_the_uninterrupted_report(tmp_path, uninterrupted, jobs):
    reference = uninterrupted(jobs)
    out = tmp_path / "out"
    proc = popen_signalled([sys.executable, "-m", "harness.cli.main", "run", *ARGS, "--jobs", str(jobs),
                            "--out", str(out), "--no-progress"], cwd=REPO, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while _windows_of(_journal_lines(out), "pre_failure") < 2:      # the 2nd scenario has begun
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() else "timeout"
            time.sleep(0.01)
        emulators = subprocess.run(["pgrep", "-P", str(proc.pid), "qemu-system-arm"], capture_output=True,
                                   text=True).stdout.split()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert len(emulators) == jobs, emulators
    deadline = time.monotonic() + 10
    while not all(_dead(int(pid)) for pid in emulators) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_dead(int(pid)) for pid in emulators), f"QEMU {emulators} outlived the killed hil run"

    killed = _journal_lines(out)
    measured = sum(line["n"] for line in killed if line.get("kind") == "windows")
    assert 0 < measured < 2 * (4 * 12 + 16), measured          # killed with work left to do
    done = {(line["model"], line["scenario"]) for line in killed if line.get("kind") == "scenario"}
    begun = {(line["model"], line["scenario"]) for line in killed if line.get("kind") == "windows"}
    assert begun - done, "the kill was to cut a scenario mid-way"
    assert not (out / "summary.json").exists()                  # SIGKILL: nothing but the journal

    result = _hil("run", *ARGS, "--jobs", str(jobs), "--out", str(out), "--resume")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "from the journal)" in result.stderr, result.stderr
    _assert_same_report(reference, out)
    # nothing measured twice: every window of every scenario is in the journal exactly once
    resumed = _journal_lines(out)
    for model in ("minmax", "robust"):
        for scenario in SCENARIOS:
            firsts = [line["first"] + k for line in resumed if line.get("kind") == "windows"
                      and (line["model"], line["scenario"]) == (model, scenario) for k in range(line["n"])]
            assert sorted(firsts) == list(range(16 if scenario == "shock_sweep" else 12)), (model, scenario)


@pytest.mark.timeout(300)
def test_a_journal_of_another_run_is_refused(tmp_path, uninterrupted):
    out = tmp_path / "out"
    out.mkdir()
    journal = uninterrupted(1) / JOURNAL_NAME
    (out / JOURNAL_NAME).write_bytes(journal.read_bytes())
    result = _hil("run", "--models", "minmax,robust", "--windows", "13", "--sweep-windows", "1", "--out", str(out),
                  "--resume")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "journal of another run (fingerprint differs): config.windows: 12 in the journal, 13 now" in result.stderr
    result = _hil("run", "--models", "minmax", *ARGS[2:], "--out", str(out), "--resume")
    assert result.returncode == 2 and "models:" in result.stderr, result.stderr


def test_resume_without_a_journal_says_so(tmp_path):
    result = _hil("run", *ARGS, "--out", str(tmp_path / "empty"), "--resume", timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "nothing to resume: no journal" in result.stderr and JOURNAL_NAME in result.stderr


def test_the_journal_keeps_arrays_bit_for_bit_and_cuts_a_torn_line(tmp_path):
    from harness.device.stream import InferenceResult
    from harness.device.recovery import FaultEvent
    for array in (np.array([[-128, 0, 127]], np.int8), np.array([-32768, 32767], np.int16),
                  np.array([2 ** 40, -1], np.int64), np.array([7_176_157], np.uint32)):
        back = decode_array(json.loads(json.dumps(encode_array(array))))
        assert back.dtype == array.dtype and np.array_equal(back, array)
    header = {"target": "qemu", "config": {"windows": 12}}
    journal = SuiteJournal(tmp_path, header).start()
    codes = np.arange(-6, 6, dtype=np.int8).reshape(2, 2, 3)
    journal.windows("m", "normal", 0, InferenceResult(codes, np.array([[1, -2], [3, 4]], np.int8),
                                                      np.array([10, 11], np.uint32), "instructions"))
    journal.fault("m", "normal", FaultEvent(2, "no reply", "silent", False, 0.7, "silent again"))
    journal.close()
    with open(tmp_path / JOURNAL_NAME, "a") as handle:
        handle.write('{"kind": "windows", "model": "m", "scen')          # killed mid-write
    state = SuiteJournal(tmp_path, header).resume()
    record = state.records[("m", "normal")]
    assert sorted(record.windows) == [0, 1] and record.measured_prefix() == 3 and record.faulted == {2}
    assert np.array_equal(record.windows[1][0], codes[1]) and record.cost_unit == "instructions"
    state.close()
    assert (tmp_path / JOURNAL_NAME).read_bytes().endswith(b"}\n")
    with pytest.raises(ConfigError, match=r"config\.windows: 12 in the journal, 16 now"):
        SuiteJournal(tmp_path, {"target": "qemu", "config": {"windows": 16}}).resume()
