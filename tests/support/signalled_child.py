"""Children that a test will signal, started with the signal dispositions the test assumes.

A non-interactive shell starts its background jobs with SIGINT (and SIGQUIT) ignored, and an
ignored signal stays ignored across fork and exec: ``bash scripts/test.sh > log 2>&1 &``, cron,
nohup and some CI runners hand pytest SIGINT = SIG_IGN, and every child then inherits it. A test
that sends SIGINT to such a child (to play Ctrl-C) would see nothing happen. Children started here
get SIGINT, SIGTERM and SIGQUIT at their defaults and unblocked, whatever this process inherited;
a Python child then installs its KeyboardInterrupt handler as it does from a terminal.
"""

from __future__ import annotations

import signal
import subprocess

SIGNALS_TESTS_SEND = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)


def restore_default_signals() -> None:
    """``preexec_fn``: runs in the child between fork and exec."""
    for signum in SIGNALS_TESTS_SEND:
        signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS_TESTS_SEND)


def popen_signalled(args, **kwargs) -> subprocess.Popen:
    """``subprocess.Popen`` for a child the test will signal (SIGINT as from a terminal)."""
    if "preexec_fn" in kwargs:
        raise TypeError("popen_signalled sets preexec_fn itself")
    return subprocess.Popen(args, preexec_fn=restore_default_signals, **kwargs)


def ignored_signals(pid: int) -> set[int]:
    """The signals ``pid`` ignores, from /proc/PID/status (SigIgn is a hex mask, bit n-1 = signal n)."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("SigIgn:"):
            mask = int(line.split()[1], 16)
            return {n for n in range(1, 65) if mask >> (n - 1) & 1}
    raise RuntimeError(f"/proc/{pid}/status has no SigIgn line")
