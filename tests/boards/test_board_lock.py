"""Board locks across processes: a clear timeout naming the holder, release on exit and on crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from harness.boards.lock import BoardLock, acquire_any, default_lock_dir
from harness.errors import BoardBusyError, ConfigError, TargetError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOLDER = """
import sys
from harness.boards.lock import BoardLock
lock = BoardLock(sys.argv[1], sys.argv[2]).acquire(timeout_s=5)
print("locked", flush=True)
sys.stdin.readline()   # hold until told (or killed)
"""


def start_holder(board, lock_dir):
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, board, str(lock_dir)], cwd=REPO,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_second_process_times_out_naming_the_holder(tmp_path):
    holder = start_holder("nucleo-1", tmp_path)
    try:
        started = time.monotonic()
        with pytest.raises(BoardBusyError) as excinfo:
            BoardLock("nucleo-1", tmp_path).acquire(timeout_s=0.3)
        waited = time.monotonic() - started
        assert 0.3 <= waited < 2.0
        error = excinfo.value
        assert isinstance(error, TargetError) and error.board == "nucleo-1"
        assert error.holder["pid"] == holder.pid
        message = str(error)
        assert f"pid {holder.pid}" in message and "nucleo-1" in message and "waited 0.3 s" in message
        assert str(tmp_path / "nucleo-1.lock") in message
        # another board is free
        with BoardLock("nucleo-2", tmp_path) as other:
            assert other.held
    finally:
        holder.communicate("\n", timeout=10)
    # released when the holder exits normally
    with BoardLock("nucleo-1", tmp_path).acquire(timeout_s=1.0) as lock:
        assert lock.held and lock.holder()["pid"] == os.getpid()


def test_lock_is_released_when_the_holder_crashes(tmp_path):
    holder = start_holder("nucleo-1", tmp_path)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    lock = BoardLock("nucleo-1", tmp_path).acquire(timeout_s=2.0)
    try:
        assert lock.held
    finally:
        lock.release()
    assert not lock.held and lock.holder() == {}
    lock.release()  # idempotent


def test_waiter_gets_the_board_when_released(tmp_path):
    holder = start_holder("b", tmp_path)
    try:
        holder.stdin.write("\n")
        holder.stdin.flush()
        lock = BoardLock("b", tmp_path).acquire(timeout_s=10)
        lock.release()
    finally:
        holder.wait(timeout=10)


def test_two_locks_in_one_process_exclude_each_other(tmp_path):
    with BoardLock("b", tmp_path):
        assert not BoardLock("b", tmp_path).try_acquire()


def test_acquire_any_takes_the_first_free_board(tmp_path):
    holder = start_holder("b1", tmp_path)
    try:
        lock = acquire_any(["b1", "b2", "b3"], tmp_path, timeout_s=1)
        assert lock.board == "b2"
        with pytest.raises(BoardBusyError, match=r"all 2 boards are busy.*b1: pid"):
            acquire_any(["b1", "b2"], tmp_path, timeout_s=0.1)
        lock.release()
    finally:
        holder.communicate("\n", timeout=10)


def test_bad_names_and_default_dir(monkeypatch, tmp_path):
    with pytest.raises(ConfigError):
        BoardLock("../etc/passwd", tmp_path)
    monkeypatch.setenv("HIL_LOCK_DIR", str(tmp_path / "x"))
    assert default_lock_dir() == tmp_path / "x"
    monkeypatch.delenv("HIL_LOCK_DIR")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert default_lock_dir() == tmp_path / "tinyml-hil" / "locks"
