"""One user of a board at a time: an exclusive ``flock`` on ``<lock_dir>/<board>.lock``.

- Works across processes and pytest-xdist workers on one machine (each ``open()`` is its own
  lock owner, so two BoardLocks in one process also exclude each other).
- The kernel drops the lock when the holder exits, however it dies: no stale locks to clean up.
- The holder writes who it is into the file; a process that waits past its deadline raises
  BoardBusyError naming that holder.
- Boards shared between machines (a probe server, rfc2217 ports) need a lock both machines see:
  point ``lock_dir`` at a shared directory whose filesystem supports flock (local NFSv4 does;
  plain NFSv3 does not), or give each machine its own boards.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Iterable

from harness.deadline import Deadline
from harness.errors import BoardBusyError, ConfigError

LOCK_DIR_ENV = "HIL_LOCK_DIR"
POLL_S = 0.05


def default_lock_dir() -> Path:
    """``$HIL_LOCK_DIR``, else a per-user directory under ``$XDG_RUNTIME_DIR`` or /tmp."""
    env = os.environ.get(LOCK_DIR_ENV)
    if env:
        return Path(env)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "tinyml-hil" / "locks"
    return Path("/tmp") / f"tinyml-hil-locks-{os.getuid()}"


def _holder_record() -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(), "argv": " ".join(sys.argv)[:200],
            "worker": os.environ.get("PYTEST_XDIST_WORKER"),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def describe_holder(holder: dict) -> str:
    if not holder:
        return "an unknown process (no holder record)"
    worker = f", xdist worker {holder['worker']}" if holder.get("worker") else ""
    return (f"pid {holder.get('pid')} on {holder.get('host')}{worker} since {holder.get('since')} "
            f"({holder.get('argv') or 'no command line'})")


class BoardLock:
    """An exclusive lock on one board. ``acquire()`` waits up to ``timeout_s``; use as a context."""

    def __init__(self, board: str, lock_dir: str | os.PathLike | None = None):
        if not board or "/" in board or board.startswith("."):
            raise ConfigError(f"board name '{board}' cannot name a lock file")
        self.board = board
        self.lock_dir = Path(lock_dir) if lock_dir is not None else default_lock_dir()
        self.path = self.lock_dir / f"{board}.lock"
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if it is free now. True when held."""
        if self._fd is not None:
            return True
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(_holder_record()) + "\n").encode(), 0)
        self._fd = fd
        return True

    def holder(self) -> dict:
        """The record the current holder wrote ({} if none or unreadable)."""
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def acquire(self, timeout_s: float = 0.0) -> "BoardLock":
        deadline = Deadline(timeout_s)
        while not self.try_acquire():
            if deadline.expired():
                holder = self.holder()
                raise BoardBusyError(f"board is busy: held by {describe_holder(holder)}; "
                                     f"waited {timeout_s:.1f} s for lock {self.path}",
                                     board=self.board, holder=holder, lock_path=str(self.path))
            time.sleep(min(POLL_S, deadline.remaining_s()))
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)  # no holder record left behind
        finally:
            os.close(fd)  # closing drops the flock

    def __enter__(self) -> "BoardLock":
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<BoardLock {self.board} {'held' if self.held else 'free'} {self.path}>"


def acquire_any(boards: Iterable[str], lock_dir: str | os.PathLike | None = None,
                timeout_s: float = 0.0) -> BoardLock:
    """Lock the first free board of ``boards`` (one board per pytest-xdist worker).

    Tries them in order, again and again, until one is free or the deadline passes; then raises
    BoardBusyError naming every holder.
    """
    locks = [BoardLock(board, lock_dir) for board in boards]
    if not locks:
        raise ConfigError("no boards to choose from")
    deadline = Deadline(timeout_s)
    while True:
        for lock in locks:
            if lock.try_acquire():
                return lock
        if deadline.expired():
            holders = "; ".join(f"{lock.board}: {describe_holder(lock.holder())}" for lock in locks)
            raise BoardBusyError(f"all {len(locks)} boards are busy after {timeout_s:.1f} s: {holders}",
                                 board=",".join(lock.board for lock in locks))
        time.sleep(min(POLL_S, deadline.remaining_s()))
