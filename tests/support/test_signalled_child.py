"""The helper behind every test that plays Ctrl-C on a child: checked with SIGINT really ignored."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from signalled_child import ignored_signals, popen_signalled

from polling import poll_until

# The child says it is ready once Python has installed (or not) its SIGINT handler.
SLEEPER = [sys.executable, "-c", "import sys, time; print('ready', flush=True); time.sleep(30)"]


@pytest.fixture
def sigint_ignored():
    """This process as a non-interactive shell's background job starts it: SIGINT ignored."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _start(popen):
    child = popen(SLEEPER, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    return child


def test_a_plain_child_inherits_the_ignored_sigint(sigint_ignored):
    """The failure the helper exists for: the child ignores Ctrl-C and keeps running."""
    child = _start(subprocess.Popen)
    try:
        assert signal.SIGINT in ignored_signals(child.pid)
        child.send_signal(signal.SIGINT)
        with pytest.raises(subprocess.TimeoutExpired):
            child.wait(timeout=0.5)
    finally:
        child.kill()
        child.wait(timeout=10)


def test_a_signalled_child_takes_sigint_at_its_default(sigint_ignored):
    child = _start(popen_signalled)
    try:
        assert signal.SIGINT not in ignored_signals(child.pid)
        child.send_signal(signal.SIGINT)
        poll_until(lambda: child.poll() is not None, 10, what="the child to end on SIGINT")
        assert child.returncode == -signal.SIGINT   # Python re-raises an unhandled KeyboardInterrupt
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)


def test_preexec_fn_is_the_helpers_own():
    with pytest.raises(TypeError, match="preexec_fn"):
        popen_signalled(SLEEPER, preexec_fn=lambda: None)
