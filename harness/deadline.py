"""Monotonic deadlines: every wait in the harness has one."""

from __future__ import annotations

import time


class Deadline:
    """A point in monotonic time. ``Deadline(2.0)`` expires two seconds from now."""

    __slots__ = ("timeout_s", "_end")

    def __init__(self, timeout_s: float):
        if timeout_s < 0:
            raise ValueError(f"timeout_s must be >= 0, got {timeout_s}")
        self.timeout_s = timeout_s
        self._end = time.monotonic() + timeout_s

    def remaining_s(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self._end

