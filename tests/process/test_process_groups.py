"""harness.process: a launcher script's children stop with it (the whole process group), on a
normal stop and after the launcher itself exited; nothing is left behind."""

from __future__ import annotations

import os
import time

from polling import poll_until, process_gone
from harness.process import live_pids, spawn, terminate

# A launcher as `renode` is one: a shell script that starts the real program and waits on it.
LAUNCHER = """#!/bin/sh
sleep 60 &
echo "child=$!"
wait
"""


def _start(tmp_path):
    script = tmp_path / "launcher.sh"
    script.write_text(LAUNCHER)
    script.chmod(0o755)
    log = open(tmp_path / "launcher.log", "w")
    proc = spawn([str(script)], log_file=log)
    child = poll_until(lambda: next((int(line.split("=")[1]) for line in open(tmp_path / "launcher.log")
                                     if line.startswith("child=")), None), 10, what="the launcher's child")
    assert os.getpgid(child) == proc.pid        # the launcher leads the group its child is in
    return proc, child, log


def test_stopping_a_launcher_stops_its_child(tmp_path):
    proc, child, log = _start(tmp_path)
    try:
        assert proc.pid in live_pids()
        terminate(proc, timeout_s=5)
        assert poll_until(lambda: process_gone(child), 5, what=f"child {child} to stop")
        assert proc.pid not in live_pids()
    finally:
        log.close()


def test_a_child_outliving_its_launcher_is_stopped_too(tmp_path):
    proc, child, log = _start(tmp_path)
    try:
        os.kill(proc.pid, 9)                    # the launcher dies; its child would be orphaned
        proc.wait(timeout=5)
        time.sleep(0.05)
        assert not process_gone(child)
        terminate(proc, timeout_s=5)            # the group still holds the child: it goes too
        assert poll_until(lambda: process_gone(child), 5, what=f"orphaned child {child} to stop")
    finally:
        log.close()
