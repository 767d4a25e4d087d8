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

import os
import time
from pathlib import Path
from typing import Iterable

from harness.deadline import Deadline
from harness.errors import BoardBusyError, ConfigError
from harness.file_lock import POLL_S, FileLock, describe_holder

LOCK_DIR_ENV = "HIL_LOCK_DIR"


def default_lock_dir() -> Path:
    """``$HIL_LOCK_DIR``, else a per-user directory under ``$XDG_RUNTIME_DIR`` or /tmp."""
    env = os.environ.get(LOCK_DIR_ENV)
    if env:
        return Path(env)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "tinyml-hil" / "locks"
    return Path("/tmp") / f"tinyml-hil-locks-{os.getuid()}"


class BoardLock(FileLock):
    """An exclusive lock on one board. ``acquire()`` waits up to ``timeout_s``; use as a context."""

    def __init__(self, board: str, lock_dir: str | os.PathLike | None = None):
        if not board or "/" in board or board.startswith("."):
            raise ConfigError(f"board name '{board}' cannot name a lock file")
        self.board = board
        self.lock_dir = Path(lock_dir) if lock_dir is not None else default_lock_dir()
        super().__init__(self.lock_dir / f"{board}.lock")

    def busy_error(self, timeout_s: float) -> BoardBusyError:
        holder = self.holder()
        return BoardBusyError(f"board is busy: held by {describe_holder(holder)}; "
                              f"waited {timeout_s:.1f} s for lock {self.path}",
                              board=self.board, holder=holder, lock_path=str(self.path))

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
