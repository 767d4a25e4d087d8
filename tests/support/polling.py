"""Test-only waiting: poll a condition under a monotonic deadline, and whether a process is gone
(the harness itself waits on replies and process exits, never by polling; tests watch processes
they do not own)."""

from __future__ import annotations

import time

from harness.deadline import Deadline


def poll_until(condition, timeout_s: float, interval_s: float = 0.01, what: str = "condition"):
    """Call ``condition()`` until it returns a truthy value or the deadline passes.

    Returns the value; raises ``TimeoutError`` naming ``what`` when time runs out.
    """
    deadline = Deadline(timeout_s)
    while True:
        value = condition()
        if value:
            return value
        if deadline.expired():
            raise TimeoutError(f"timed out after {timeout_s:.1f} s waiting for {what}")
        time.sleep(min(interval_s, deadline.remaining_s()))


def process_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (a zombie awaiting an absent reaper counts as gone)."""
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")
