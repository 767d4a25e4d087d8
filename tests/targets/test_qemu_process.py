"""Real qemu-system-arm with a do-nothing ELF: lifecycle, and no QEMU outlives its host."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys

import pytest
from signalled_child import popen_signalled

from polling import poll_until, process_gone
from harness.errors import DeviceTimeoutError
from harness.targets import create_target
from harness.process import live_pids

HOLDER = pathlib.Path(__file__).with_name("hold_qemu.py")


def wait_gone(pid: int, timeout_s: float) -> bool:
    try:
        return poll_until(lambda: process_gone(pid), timeout_s, interval_s=0.01, what=f"pid {pid} to exit")
    except TimeoutError:
        return False


def test_start_connect_stop(idle_elf, tmp_path):
    target = create_target("qemu", run_dir=tmp_path, boot_timeout_s=0.3)
    with target:
        url = target.start(idle_elf)
        assert url.startswith("socket://127.0.0.1:") and int(url.rsplit(":", 1)[1]) > 0
        assert target.is_running and target.url == url
        assert target.pid in live_pids()
        log = target.log_path.read_text()
        assert "-icount shift=0" in log and "nodelay=on" in log and "disconnected:tcp:127.0.0.1:" in log
        # the idle firmware never sends BOOT: the timeout names the target and its log
        with pytest.raises(DeviceTimeoutError) as excinfo:
            target.connect()
        assert excinfo.value.target == "qemu:netduinoplus2"
        assert str(target.log_path) in str(excinfo.value)
        pid = target.pid
    assert not target.is_running and target.url is None
    assert wait_gone(pid, 5.0)
    assert pid not in live_pids()
    target.stop()  # idempotent


def test_icount_off_leaves_it_out(idle_elf, tmp_path):
    with create_target("qemu", run_dir=tmp_path, icount=False) as target:
        target.start(idle_elf)
        assert "-icount" not in target.command


def test_qemu_failing_to_start_reports_log(idle_elf, tmp_path):
    from harness.errors import TargetError
    target = create_target("qemu", run_dir=tmp_path, extra_args=("-no-such-option",))
    with pytest.raises(TargetError, match="exited with status 1 before listening.*no-such-option"):
        target.start(idle_elf)
    assert not target.is_running


def _start_holder(idle_elf, tmp_path) -> tuple[subprocess.Popen, int]:
    holder = popen_signalled([sys.executable, str(HOLDER), str(idle_elf)], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = holder.stdout.readline()  # bounded by the holder's own 10 s start deadline
    assert line.startswith("pid="), (line, holder.stderr.read() if holder.poll() is not None else "")
    qemu_pid = int(line.split()[0].split("=")[1])
    assert not process_gone(qemu_pid)
    return holder, qemu_pid


@pytest.fixture
def reap_orphans():
    """Make this process a child subreaper for one test, so a QEMU orphaned by its killed host is
    re-parented here (not to PID 1, which in containers may never reap it) and can be reaped."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_child_subreaper = 36
    libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0)
    orphans: list[int] = []
    yield orphans
    libc.prctl(pr_set_child_subreaper, 0, 0, 0, 0)
    for pid in orphans:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass  # reaped by its own parent


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
                         ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_no_qemu_outlives_its_host(idle_elf, tmp_path, signum, reap_orphans):
    holder, qemu_pid = _start_holder(idle_elf, tmp_path)
    reap_orphans.append(qemu_pid)
    try:
        os.kill(holder.pid, signum)
        holder.wait(timeout=10)
        assert wait_gone(qemu_pid, 5.0), f"qemu {qemu_pid} survived its host killed by {signum!r}"
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)
        if not process_gone(qemu_pid):
            os.kill(qemu_pid, signal.SIGKILL)
    if signum == signal.SIGTERM:
        assert holder.returncode == -signal.SIGTERM  # cleanup then the default action, not a swallowed signal
