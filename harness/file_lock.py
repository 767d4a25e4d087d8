"""An exclusive ``flock`` on a file, with a deadline and a record of who holds it.

- Works across processes and pytest-xdist workers on one machine; each ``open()`` is its own
  lock owner, so two locks on one path in one process also exclude each other.
- The kernel drops the lock when the holder exits, however it dies: no stale locks to clean up.
- The holder writes who it is into the file, so a waiter that gives up can name it.

Used for boards (:mod:`harness.boards.lock`) and for build folders (:mod:`harness.firmware.build`,
:mod:`harness.engine.build`): two ``hil`` processes, or two test workers, never run ``make`` in
one folder at once, and neither sees the other's half-written files.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

from harness.deadline import Deadline
from harness.errors import LockBusyError

POLL_S = 0.05


def holder_record() -> dict:
    """Who this process is: pid, host, command line, pytest-xdist worker, since when."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "argv": " ".join(sys.argv)[:200],
            "worker": os.environ.get("PYTEST_XDIST_WORKER"),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def describe_holder(holder: dict) -> str:
    if not holder:
        return "an unknown process (no holder record)"
    worker = f", xdist worker {holder['worker']}" if holder.get("worker") else ""
    return (f"pid {holder.get('pid')} on {holder.get('host')}{worker} since {holder.get('since')} "
            f"({holder.get('argv') or 'no command line'})")


class FileLock:
    """An exclusive lock on ``path``. ``acquire(timeout_s)`` waits until the deadline; use as a
    context (``with FileLock(p).acquire(60.0):``) or call ``release()``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if it is free now. True when held."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
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
        os.pwrite(fd, (json.dumps(holder_record()) + "\n").encode(), 0)
        self._fd = fd
        return True

    def holder(self) -> dict:
        """The record the current holder wrote ({} if none or unreadable)."""
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def busy_error(self, timeout_s: float) -> Exception:
        """The error raised when the deadline passes; subclasses name what the lock guards."""
        holder = self.holder()
        return LockBusyError(f"{self.path} is held by {describe_holder(holder)}; waited {timeout_s:.1f} s",
                             holder=holder, lock_path=str(self.path))

    def acquire(self, timeout_s: float = 0.0):
        deadline = Deadline(timeout_s)
        while not self.try_acquire():
            if deadline.expired():
                raise self.busy_error(timeout_s)
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

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {'held' if self.held else 'free'} {self.path}>"
