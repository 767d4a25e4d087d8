"""The labgrid target on the loopback farm (conftest.py): the device suite through a place,
two places in parallel, a held place waited for, an exporter that dies mid-run."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone

import pytest

from harness.errors import BoardBusyError, HarnessError
from harness.farm.client import LabgridClient
from harness.nightly.history import run_rows
from harness.suite.api import run_suite
from harness.suite.config import SuiteConfig
from harness.suite.outputs import read_summary
from harness.targets import create_target, running_device

MODELS = ["robust", "minmax"]
CONFIG = SuiteConfig(windows=6, sweep_windows=1, window_timeout_s=3.0)

pytestmark = pytest.mark.timeout(170)


def _free(farm, place: str) -> bool:
    return farm.client.holder(place) is None


def _acquired_in_log(farm) -> list[str]:
    """Places acquired so far, in order, as the coordinator logged them."""
    log = (farm.work_dir / "coordinator.log").read_text(errors="replace")
    return re.findall(r"^(p\d): place acquired by", log, re.MULTILINE)


def test_a_device_boots_through_a_place(farm, firmware):
    with running_device("labgrid", firmware, place="p1", coordinator=farm.coordinator) as device:
        assert device.boot_info.board == "netduinoplus2"
        assert device.target.url.startswith("rfc2217://127.0.0.1:")
        assert device.target.describe() == "labgrid:p1@loopback"
        assert farm.client.holder("p1").endswith(device.target.username)
    assert _free(farm, "p1")


def test_the_suite_on_one_place_then_on_two_in_parallel(farm, monkeypatch, tmp_path):
    monkeypatch.setenv("LG_COORDINATOR", farm.coordinator)
    monkeypatch.setenv("LG_PLACE", "p1")
    before = len(_acquired_in_log(farm))
    started = time.monotonic()
    one = run_suite(MODELS, target="labgrid", config=CONFIG, jobs=1, out_dir=tmp_path / "one")
    one_s = time.monotonic() - started
    monkeypatch.setenv("LG_PLACE", "p1,p2")
    started = time.monotonic()
    two = run_suite(MODELS, target="labgrid", config=CONFIG, jobs=2, out_dir=tmp_path / "two")
    two_s = time.monotonic() - started
    print(f"\nsuite of {len(MODELS)} models: one place {one_s:.1f} s, two places in parallel {two_s:.1f} s "
          f"({one_s / two_s:.2f}x)")
    for name, outcome in (("one", one), ("two", two)):
        print(f"  {name}: " + ", ".join(f"{k} {v:.1f}" for k, v in outcome.phases.items()))
    assert one.jobs == 1 and two.jobs == 2
    assert sorted(_acquired_in_log(farm)[before:][1:]) == ["p1", "p2"]   # one place per job
    assert not one.aborted and not two.aborted
    verdicts = lambda outcome: [(s["model"], s["verdict"], s["device_status"]) for s in outcome.summaries()]
    assert verdicts(one) == verdicts(two)
    assert dict((s["model"], s["verdict"]) for s in one.summaries()) == {"robust": "OK", "minmax": "COLLAPSED"}
    assert _free(farm, "p1") and _free(farm, "p2")
    # the nightly history names the places and the exporter of the run
    rows = run_rows(read_summary(tmp_path / "two"), None, run_id="r1", time_utc=datetime.now(timezone.utc), git="g",
                    firmware_build_id="b", target="labgrid", board="netduinoplus2")
    assert set(rows["place"]) == {"p1,p2"} and set(rows["exporter"]) == {"loopback"}


def test_a_second_client_waits_for_a_held_place_then_gets_it(farm, firmware):
    holder = LabgridClient(farm.coordinator, username="alice")
    holder.acquire("p2")
    try:
        with pytest.raises(BoardBusyError, match="alice"):
            create_target("labgrid", place="p2", coordinator=farm.coordinator, acquire_timeout_s=1.0).start(firmware)
        waiter = create_target("labgrid", place="p2", coordinator=farm.coordinator, acquire_timeout_s=40.0)
        outcome = {}

        def take():
            try:
                outcome["url"] = waiter.start(firmware)
                outcome["at"] = time.monotonic()
            except BaseException as e:  # noqa: BLE001 - asserted below
                outcome["error"] = e

        thread = threading.Thread(target=take, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while waiter._token is None and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert waiter._token is not None and "alice" in waiter.holder_seen   # queued on a reservation
        time.sleep(1.0)
        assert "url" not in outcome                                          # still waiting
        released_at = time.monotonic()
    finally:
        holder.release("p2")
    try:
        thread.join(timeout=40)
        assert not thread.is_alive() and "error" not in outcome, outcome
        print(f"\nthe waiter got p2 {outcome['at'] - released_at:.1f} s after the release (flash included)")
        assert waiter.place == "p2"
        assert waiter.connect().boot_info.board == "netduinoplus2"
    finally:
        waiter.stop()
    assert _free(farm, "p2")
    assert "LG_TOKEN" not in farm.client.run("reservations").stdout and waiter._token is None


def test_an_exporter_killed_mid_run_aborts_keeping_what_was_measured(farm, monkeypatch, tmp_path):
    monkeypatch.setenv("LG_COORDINATOR", farm.coordinator)
    monkeypatch.setenv("LG_PLACE", "p1")
    out = tmp_path / "out"
    journal = out / "journal.jsonl"
    killed = threading.Event()
    at_kill = {}

    def kill_after_some_windows():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            lines = journal.read_text().count("\n") if journal.exists() else 0
            if lines >= 8:                     # the journal's header, then one line per window
                at_kill["windows"] = lines - 1
                farm.kill_exporter()
                killed.set()
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_after_some_windows, daemon=True)
    killer.start()
    started = time.monotonic()
    error = None
    try:
        outcome = run_suite(["robust"], target="labgrid", config=SuiteConfig(windows=12, sweep_windows=1,
                                                                            window_timeout_s=2.0), jobs=1, out_dir=out)
    except HarnessError as e:
        error, outcome = e, None
    finally:
        took = time.monotonic() - started
        killer.join(timeout=5)
        if killed.is_set():
            # the exporter comes back whatever happened (for whatever runs next on this farm)
            farm.start_exporter()
    assert killed.is_set(), "the run ended before the exporter could be killed"
    print(f"\nexporter killed: the run ended in {took:.1f} s with "
          f"{type(error).__name__ + ': ' + str(error)[:160] if error else 'an outcome'}")
    entry, = read_summary(out)["models"]
    print(f"summary: {entry['verdict']}, device {entry['device_status']}, {entry['windows']} windows; "
          f"{entry['reasons'][0][:200] if entry.get('reasons') else ''}")
    assert entry["verdict"] == "ABORTED" or entry["device_status"] != "ok", entry
    assert entry["windows"] >= at_kill["windows"]      # what was measured before the kill is kept
    assert _free(farm, "p1")


def test_a_place_held_by_a_killed_harness_process_is_taken_back(farm, firmware):
    """kill -9 runs no finally: the coordinator keeps the place acquired by the dead process's
    user; the next harness client on this host sees that PID is gone and kicks it."""
    child = subprocess.Popen([sys.executable, "-c",
                              "import sys, time; from harness.targets import create_target; "
                              f"t = create_target('labgrid', place='p2', coordinator='{farm.coordinator}'); "
                              f"t.start({str(firmware.elf)!r}); print('held', flush=True); time.sleep(120)"],
                             stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert child.stdout.readline().strip() == "held"
        child.kill()
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
    holder = farm.client.holder("p2")
    assert holder and f".hil-{child.pid}-" in holder          # still acquired by the dead process
    with create_target("labgrid", place="p2", coordinator=farm.coordinator, acquire_timeout_s=20.0) as target:
        target.start(firmware)
        assert target.place == "p2" and f".hil-{child.pid}-" not in farm.client.holder("p2")
    assert _free(farm, "p2")


def test_hil_run_takes_the_place_from_its_option(farm, tmp_path):
    """hil run --target labgrid --place p1 (no LG_PLACE): the place is acquired and released."""
    import json
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "LG_PLACE"}
    env["LG_COORDINATOR"] = farm.coordinator
    result = subprocess.run([sys.executable, "-m", "harness", "run", "--target", "labgrid", "--place", "p1",
                             "--models", "robust", "--windows", "4", "--sweep-windows", "1", "--no-progress",
                             "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=240, env=env)
    assert result.returncode == 0, result.stdout[-1500:] + result.stderr[-1500:]
    model, = json.loads((tmp_path / "out" / "summary.json").read_text())["models"]
    assert (model["model"], model["verdict"], model["device_status"]) == ("robust", "OK", "OK")
    assert _free(farm, "p1")

