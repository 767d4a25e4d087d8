"""A QEMU gdbstub a previous debugger left with the core running, made ready for the next one.

pyOCD leaves the core running when its session closes (``resume_on_disconnect``). QEMU then stops
the VM on the next client's first byte and answers it with a stop reply instead of the reply to
its request, so the next pyOCD session would read ``T05...`` where it expects ``target.xml``. A
place's board persists across sessions (unlike the pyocd target's own QEMU), so before each
session: connect, ask ``?`` (running: the ``$`` stops the VM; halted: ``?`` is answered), take the
one stop reply, acknowledge it, disconnect. The VM stays halted and the next client starts clean.
"""

from __future__ import annotations

import socket

from harness.deadline import Deadline
from harness.errors import TargetError


def settle_gdbstub(host: str, port: int, timeout_s: float = 5.0) -> bytes:
    """Halt a QEMU gdbstub's VM and consume its stop reply; returns the reply packet."""
    deadline = Deadline(timeout_s)
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(b"$?#3f")
            seen = b""
            while not deadline.expired():
                sock.settimeout(max(0.05, deadline.remaining_s()))
                chunk = sock.recv(4096)
                if not chunk:
                    break
                seen += chunk
                start = seen.find(b"$")
                end = seen.find(b"#", start + 1) if start >= 0 else -1
                if end >= 0 and len(seen) >= end + 3:
                    sock.sendall(b"+")
                    return seen[start:end + 3]
    except OSError as e:
        raise TargetError(f"cannot reach the gdbstub {host}:{port}: {e}", target="gdbstub") from e
    raise TargetError(f"the gdbstub {host}:{port} gave no stop reply within {timeout_s:.1f} s (seen {seen[:60]!r})",
                      target="gdbstub")
