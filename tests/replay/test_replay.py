"""Host triage, journal, resume, cache, report: on a 60 s recording with two planted events."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from signalled_child import popen_signalled

from harness.cli.commands.replay import replay
from harness.errors import ConfigError
from harness.replay.journal import Journal
from harness.replay.reader import ChunkedTrace
from harness.replay.run import choose_confirmation, collect_windows, triage_recording
from harness.replay.triage import HostTriage

from replay_cases import SHORT_EVENTS, inside_events, replay_args, report_of, short_recording


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return short_recording(tmp_path_factory.mktemp("replay") / "field.parquet")


@pytest.fixture(scope="module")
def baseline(recording, tmp_path_factory):
    out = tmp_path_factory.mktemp("baseline")
    replay(replay_args(recording, out, "--no-device", "--chunk-rows", 16384))
    return out


class Interrupt(Exception):
    pass


def _stop_after(n):
    def after_chunk(number):
        if number + 1 == n:
            raise Interrupt(f"stopped after {n} chunks")
    return after_chunk


def test_triage_finds_exactly_the_planted_events(baseline):
    report = report_of(baseline)
    s = report["summary"]
    assert s["windows"] == 750 and s["rows"] == 96000
    assert s["kinds"] == {"normal->pre_failure": s["disagreeing_windows"]}
    assert len(s["episodes"]) == 2
    for episode, event in zip(s["episodes"], SHORT_EVENTS):
        assert episode["start_s"] < event.stop_s and episode["stop_s"] > event.start_s
        assert episode["windows"] >= 8                   # of the 16 windows an event spans
    for d in report["disagreements"]:
        assert inside_events(d["start_s"], SHORT_EVENTS)
        assert d["collapse"]["verdict"] == "COLLAPSED"   # a few codes left for the normal band
        assert d["collapse"]["codes_used"] < 46          # under 5.5 bits: harness.quant.verdict
    assert report["device"] is None
    assert (baseline / "timeline.png").stat().st_size > 0
    assert (baseline / f"window-{report['disagreements'][0]['index']}.png").is_file()
    assert "| 20." in (baseline / "report.md").read_text()


def test_robust_model_agrees_everywhere(recording, tmp_path):
    outcome = triage_recording(ChunkedTrace(recording), HostTriage("robust"), tmp_path)
    assert len(outcome.float_class) == 750 and outcome.disagreements == []


def test_interrupted_then_resumed_gives_the_same_report(recording, baseline, tmp_path):
    with pytest.raises(Interrupt):
        replay(replay_args(recording, tmp_path, "--no-device", "--chunk-rows", 16384),
               after_chunk=_stop_after(3))
    journal = next(tmp_path.glob("triage-*.jsonl")).read_text().splitlines()
    assert len(journal) == 1 + 3 and '"done"' not in journal[-1]
    replay(replay_args(recording, tmp_path, "--no-device", "--chunk-rows", 16384, "--resume"))
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["resumed_chunks"] == 3 and run["triaged_windows"] == 750 - 3 * 128
    assert report_of(tmp_path) == report_of(baseline)


def test_torn_last_line_is_cut_off_on_resume(recording, baseline, tmp_path):
    with pytest.raises(Interrupt):
        replay(replay_args(recording, tmp_path, "--no-device", "--chunk-rows", 16384),
               after_chunk=_stop_after(2))
    path = next(tmp_path.glob("triage-*.jsonl"))
    with open(path, "a") as handle:
        handle.write('{"kind": "chunk", "chunk": 2, "rows": [32768, ')   # killed mid-write
    replay(replay_args(recording, tmp_path, "--no-device", "--chunk-rows", 16384, "--resume"))
    assert json.loads((tmp_path / "run.json").read_text())["resumed_chunks"] == 2
    assert report_of(tmp_path) == report_of(baseline)


def test_without_resume_an_interrupted_journal_is_started_over(recording, baseline, tmp_path):
    with pytest.raises(Interrupt):
        replay(replay_args(recording, tmp_path, "--no-device", "--chunk-rows", 16384),
               after_chunk=_stop_after(2))
    replay(replay_args(recording, tmp_path, "--no-device", "--chunk-rows", 16384))
    assert json.loads((tmp_path / "run.json").read_text())["resumed_chunks"] == 0
    assert report_of(tmp_path) == report_of(baseline)


def test_second_run_reuses_the_triage(recording, baseline):
    replay(replay_args(recording, baseline, "--no-device", "--chunk-rows", 16384))
    run = json.loads((baseline / "run.json").read_text())
    assert run["reused_journal"] is True and run["triaged_windows"] == 0


def test_other_parameters_get_their_own_journal(recording, baseline):
    before = set(baseline.glob("triage-*.jsonl"))
    replay(replay_args(recording, baseline, "--no-device", "--chunk-rows", 32768))
    assert len(set(baseline.glob("triage-*.jsonl")) - before) == 1


def test_a_foreign_journal_is_refused(recording, tmp_path):
    triage = HostTriage("minmax")
    trace = ChunkedTrace(recording, chunk_rows=16384)
    outcome = triage_recording(trace, triage, tmp_path)
    other = Journal(tmp_path, {"something": "else"})
    other.path.write_text(open(outcome.journal_path).read())
    with pytest.raises(ConfigError, match="fingerprint differs"):
        other.read()


def test_sigint_mid_run_then_resume_gives_the_same_report(recording, baseline, tmp_path):
    """A real interrupt: SIGINT to a `hil replay` process once its journal holds two chunks."""
    command = [sys.executable, "-m", "harness", "replay", "--trace", str(recording), "--model", "minmax",
               "--out", str(tmp_path), "--no-device", "--chunk-rows", "8192"]
    process = popen_signalled(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            journals = list(tmp_path.glob("triage-*.jsonl"))
            if journals and journals[0].read_text().count('"kind":"chunk"') >= 2:
                break
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    chunks = next(tmp_path.glob("triage-*.jsonl")).read_text().count('"kind":"chunk"')
    assert 2 <= chunks < 12
    done = subprocess.run(command + ["--resume"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "run.json").read_text())["resumed_chunks"] == chunks
    # 8192-row chunks give another fingerprint, not another report: compare what the report says
    resumed, expected = report_of(tmp_path), report_of(baseline)
    for key in ("fingerprint", "params"):
        resumed.pop(key), expected.pop(key)
    assert resumed == expected


def test_progress_goes_to_stderr(recording, tmp_path, capsys):
    from harness.cli.main import main
    assert main(["replay", "--trace", str(recording), "--model", "minmax", "--out", str(tmp_path),
                 "--no-device", "--max-plots", "0"]) == 0
    captured = capsys.readouterr()
    assert "triage: rows 96,000/96,000 (100.0 %)  windows 750" in captured.err
    assert "episodes: 2" in captured.out and "disagreeing_windows:" in captured.out


def test_confirmation_choice_and_collection(recording, tmp_path):
    triage = HostTriage("minmax")
    trace = ChunkedTrace(recording, chunk_rows=10000)
    outcome = triage_recording(trace, triage, tmp_path)
    chosen = choose_confirmation(outcome, sample_agreeing=5, seed=1)
    assert chosen == choose_confirmation(outcome, sample_agreeing=5, seed=1)
    assert chosen["disagreeing"] == [d["index"] for d in outcome.disagreements]
    assert all(outcome.float_class[i] == outcome.int8_class[i] for i in chosen["agreeing"])
    windows = collect_windows(trace, 128, chosen["disagreeing"] + chosen["agreeing"])
    assert sorted(windows) == sorted(chosen["disagreeing"] + chosen["agreeing"])
    again = triage.run(np.stack([windows[i] for i in chosen["disagreeing"]]))
    assert np.all(again.float_class != again.int8_class)


def test_worker_processes_journal_the_same_triage(recording, tmp_path):
    triage = HostTriage("minmax")
    one = triage_recording(ChunkedTrace(recording, chunk_rows=16384), triage, tmp_path / "one")
    two = triage_recording(ChunkedTrace(recording, chunk_rows=16384), triage, tmp_path / "two", workers=2)
    assert open(one.journal_path).read() == open(two.journal_path).read()


def test_csv_with_mapped_columns_ms_and_m_s2_gives_the_same_disagreements(recording, baseline, tmp_path):
    import pandas as pd
    frame = pd.read_parquet(recording)
    csv = pd.DataFrame({"t_ms": frame["time_s"] * 1e3, "X": frame["ax_g"] * 9.80665,
                        "Y": frame["ay_g"] * 9.80665, "Z": frame["az_g"] * 9.80665})
    path = tmp_path / "field.csv"
    csv.to_csv(path, index=False, float_format="%.10g")
    replay(replay_args(path, tmp_path / "out", "--no-device", "--columns", "time_s=t_ms,ax_g=X,ay_g=Y,az_g=Z",
                       "--units", "m/s2", "--time-unit", "ms"))
    got = report_of(tmp_path / "out")
    want = report_of(baseline)
    assert [d["index"] for d in got["disagreements"]] == [d["index"] for d in want["disagreements"]]
    assert all(d["label"] is None and d["wrong"] is None for d in got["disagreements"])  # no label column
    assert got["summary"]["windows"] == want["summary"]["windows"]


def test_bad_input_through_the_cli_names_the_row(tmp_path, capsys):
    import pandas as pd
    from harness.cli.main import main
    n = 3000
    t = np.arange(n) / 1600.0
    t[2000:] += 0.25                                         # 400 samples missing before row 2000
    frame = pd.DataFrame({"time_s": t, "ax_g": 0.3 * np.sin(t * 300), "ay_g": 0.0 * t, "az_g": 1.0 + 0 * t})
    path = tmp_path / "gap.csv"
    frame.to_csv(path, index=False)
    assert main(["replay", "--trace", str(path), "--model", "minmax", "--out", str(tmp_path / "o"),
                 "--no-device", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "row 2000, column 'time_s': gap of 0.25" in err and "file line 2002" in err
    assert "--allow-gaps" in err


def test_confirmation_resets_a_device_that_hangs_and_compares_every_window(recording, tmp_path):
    """Real QEMU: the device hangs on the third confirmed window (FAULT_ARM); confirm_on_device resets
    it, loads the model again, retries the window, and every window is compared as without the hang."""
    from harness.firmware.build import build_firmware
    from harness.link.protocol import FaultMode
    from harness.replay.run import confirm_on_device
    from harness.targets import running_device
    triage = HostTriage("minmax")
    trace = ChunkedTrace(recording, chunk_rows=10000)
    outcome = triage_recording(trace, triage, tmp_path)
    chosen = choose_confirmation(outcome, sample_agreeing=3, seed=1)
    indices = chosen["disagreeing"] + chosen["agreeing"]
    windows = collect_windows(trace, triage.window_len, indices)
    with running_device("qemu", build_firmware(engine="portable")) as device:
        clean = confirm_on_device(device, triage, windows, timeout_s=1.5)
        first = device.client.send(0x01)            # how many requests one deploy takes
        triage.pipeline().deploy(device.client)
        uploads = device.client.send(0x01) - first - 1
        device.client.arm_fault(FaultMode.HANG, after=uploads + 2)
        hung = confirm_on_device(device, triage, windows, timeout_s=1.5)
    assert clean.resets == 0 and hung.resets == 1 and hung.device_faults == []
    assert clean.all_equal and hung.all_equal and hung.indices == clean.indices == sorted(indices)
    assert hung.cost == clean.cost and hung.device_class == clean.device_class
