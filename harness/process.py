"""Child processes the harness starts (emulators, probe servers, farm daemons): spawned once here,
supervised, and never left behind.

Each child leads its own session and process group. Stopping it signals the whole group, so a
launcher script's children stop too. Children get SIGKILL when the host dies, even by SIGKILL
(PR_SET_PDEATHSIG). PDEATHSIG reaches only the child itself, not what a launcher script starts
without ``exec`` (``renode`` runs ``mono Renode.exe`` so), so each child also has a *group guard*:
a ``sh`` that holds the read end of a pipe only the host writes to, and SIGKILLs the child's group
when that pipe closes, which is when the host dies, however it dies. The host's exit, SIGTERM and
SIGHUP stop every live child.

On top of :func:`spawn`/:func:`terminate`: :class:`LoggedChild` (one child and its log file, the
command line first; what the targets, the pyOCD emulated board and the loopback farm run),
:func:`new_run_dir` (where a run's files go) and :func:`connect_when_listening` (a child's TCP
port, retried while it starts).
"""

from __future__ import annotations

import atexit
import ctypes
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Collection
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the kernel's choice; the child binds it moments later)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def connect_when_listening(host: str, port: int, deadline, *, alive=lambda: True,
                           interval_s: float = 0.01) -> socket.socket:
    """A TCP connection to a child that may still be starting: refused connections are retried
    until ``deadline`` (a harness.deadline.Deadline) expires or ``alive()`` turns false, then the
    last OSError is raised (the caller names what it was reaching). TCP_NODELAY is set: the
    harness's exchanges are small."""
    while True:
        try:
            sock = socket.create_connection((host, port), timeout=max(0.05, deadline.remaining_s()))
            break
        except OSError:
            if deadline.expired() or not alive():
                raise
            time.sleep(min(interval_s, deadline.remaining_s()))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


_run_counter = itertools.count(1)


def new_run_dir(kind: str, run_dir: str | os.PathLike | None, runs_root: Path) -> Path:
    """``run_dir`` if given, else a new ``runs_root/KIND-YYYYmmdd-HHMMSS-PID-N`` (the callers'
    root: ``harness.paths.build_root() / "runs"``); made."""
    path = Path(run_dir) if run_dir is not None else (
        runs_root / f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{next(_run_counter)}")
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- child processes: none is ever left behind ------------------------------------------------

_PR_SET_PDEATHSIG = 1
_live: set[subprocess.Popen] = set()
_guards: dict[subprocess.Popen, tuple[subprocess.Popen, int]] = {}   # child -> (its guard, pipe fd)
_live_lock = threading.Lock()
_hooks_installed = False


def _die_with_parent(parent_pid: int):
    """A preexec_fn: the child gets SIGKILL when the host dies, even by SIGKILL (Linux only).

    PDEATHSIG fires when the *thread* that forked exits, so start children from a thread that
    lives as long as they should.
    """
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def spawn(cmd: list[str], *, log_file, env: dict | None = None,
          cwd: str | os.PathLike | None = None) -> subprocess.Popen:
    """Start a supervised child: own session (terminal Ctrl-C goes to the host, which then stops
    the child in its ``finally``), killed with the host (PDEATHSIG), at exit and on SIGTERM/SIGHUP."""
    _install_hooks()
    preexec = _die_with_parent(os.getpid()) if sys.platform.startswith("linux") else None
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                            start_new_session=True, preexec_fn=preexec, close_fds=True, env=env, cwd=cwd)
    guard = _guard_group(proc.pid)
    with _live_lock:
        _live.add(proc)
        if guard is not None:
            _guards[proc] = guard
    return proc


# read returns at EOF: the host is gone (or dropped the guard); then the whole group goes
_GUARD_SCRIPT = 'read -r _ ; kill -9 "-$1" 2>/dev/null'


def _guard_group(pgid: int) -> tuple[subprocess.Popen, int] | None:
    """A ``sh`` in its own session that SIGKILLs process group ``pgid`` when the host dies (its
    stdin, a pipe whose only write end the host holds, reaches EOF). Not PDEATHSIG'd itself."""
    try:
        read_fd, write_fd = os.pipe()   # both non-inheritable: no other child holds the write end
    except OSError:
        return None
    try:
        guard = subprocess.Popen(["/bin/sh", "-c", _GUARD_SCRIPT, "hil-group-guard", str(pgid)],
                                 stdin=read_fd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True, close_fds=True)
    except OSError:
        os.close(write_fd)
        return None
    finally:
        os.close(read_fd)
    return guard, write_fd


def _drop_guard(proc: subprocess.Popen) -> None:
    """The group is stopped: end its guard first (so it never signals a reused group id), then
    close the pipe."""
    with _live_lock:
        entry = _guards.pop(proc, None)
    if entry is None:
        return
    guard, write_fd = entry
    try:
        guard.kill()
        guard.wait(timeout=5)
    except (OSError, subprocess.SubprocessError):
        pass   # already gone
    finally:
        os.close(write_fd)


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    """``signum`` to the child's whole process group (it leads its own session): a launcher
    script's children (``renode`` starting ``mono Renode.exe``) go with it."""
    try:
        os.killpg(proc.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass   # the group is gone already


def terminate(proc: subprocess.Popen, timeout_s: float = 5.0) -> int | None:
    """SIGTERM to the process group, wait with a deadline, then SIGKILL to what is left of the
    group (the leader's children too, even when the leader itself exited). Returns the exit status."""
    try:
        if proc.poll() is None:
            _signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=timeout_s)
        _signal_group(proc, signal.SIGKILL)   # stragglers of the group: a launcher's orphaned children
        return proc.returncode
    finally:
        with _live_lock:
            _live.discard(proc)
        _drop_guard(proc)


class LoggedChild:
    """One supervised child (:func:`spawn`) whose stdout and stderr go to its own log file, which
    starts with the command line (``$ cmd``). ``stop()`` ends its whole process group and closes
    the log; it is idempotent. ``append`` keeps what the log holds (a retried start)."""

    def __init__(self, cmd: list[str], log_path: str | os.PathLike, *, name: str | None = None,
                 cwd: str | os.PathLike | None = None, env: dict | None = None, append: bool = False):
        self.cmd = list(cmd)
        self.log_path = Path(log_path)
        self.name = name or Path(self.cmd[0]).name
        self._log = open(self.log_path, "ab" if append else "wb")
        try:
            self._log.write(("$ " + " ".join(self.cmd) + "\n").encode())
            self._log.flush()
            self.proc = spawn(self.cmd, log_file=self._log, env=env, cwd=cwd)
        except BaseException:
            self._log.close()
            raise

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()

    @property
    def is_running(self) -> bool:
        return self.proc.poll() is None

    def wait_exit(self, timeout_s: float) -> bool:
        """Whether the child exits by itself within ``timeout_s`` (after being asked to quit)."""
        try:
            self.proc.wait(timeout=timeout_s)
            return True
        except subprocess.TimeoutExpired:
            return False

    def signal_group(self, signum: int) -> None:
        """``signum`` to the child's whole group (e.g. SIGKILL: the machine it runs on dies)."""
        _signal_group(self.proc, signum)

    def stop(self, timeout_s: float = 5.0) -> int | None:
        """:func:`terminate` the group (SIGTERM, wait, SIGKILL), close the log; the exit status."""
        try:
            return terminate(self.proc, timeout_s)
        finally:
            self._log.close()

    def tail(self, max_chars: int = 600) -> str:
        """The end of the log (for an error message)."""
        try:
            return self.log_path.read_text(errors="replace")[-max_chars:].strip()
        except OSError:
            return ""


class RunsChild:
    """Mixin for what runs one :class:`LoggedChild` in ``_child`` (a target, an emulated board)."""

    _child: LoggedChild | None = None

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    @property
    def is_running(self) -> bool:
        return self._child is not None and self._child.is_running

    def _stop_child(self, timeout_s: float) -> None:
        child, self._child = self._child, None
        if child is not None:
            child.stop(timeout_s)


def terminate_all(timeout_s: float = 2.0, keep: Collection[int] = ()) -> None:
    """Stop every child this process spawned and has not stopped, but those whose pid is in ``keep``."""
    with _live_lock:
        procs = [p for p in _live if p.pid not in keep]
    for proc in procs:
        try:
            terminate(proc, timeout_s)
        except (OSError, subprocess.SubprocessError):
            pass  # already reaped or unkillable; nothing more a dying host can do


def live_pids() -> list[int]:
    with _live_lock:
        return sorted(p.pid for p in _live if p.poll() is None)


def _on_fatal_signal(signum, _frame) -> None:
    terminate_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_hooks() -> None:
    """atexit always; SIGTERM/SIGHUP only where nobody else handles them (we chain to default)."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(terminate_all)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(signum) in (signal.SIG_DFL, None):
                signal.signal(signum, _on_fatal_signal)
