"""The Target interface every backend implements, and child-process supervision.

Labgrid's split: a *resource* says where (the link URL, the ELF path, the log path); a *driver*
says how (a Target starts and stops the thing that runs the firmware; ``harness.link`` speaks the
protocol over the URL).
"""

from __future__ import annotations

import abc
import atexit
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import ClassVar

from harness.errors import ConfigError, TargetError
from harness.link.client import DeviceClient

DEFAULT_BOARD = "netduinoplus2"
DEFAULT_BOOT_TIMEOUT_S = 10.0


def image_elf(image) -> Path:
    """The ELF of a FirmwareImage (anything with ``.elf``) or of a plain path."""
    elf = Path(getattr(image, "elf", image))
    if not elf.is_file():
        raise ConfigError(f"firmware image {elf} does not exist; build it with 'hil build'")
    return elf


class Target(abc.ABC):
    """A place firmware runs. ``start(image)`` returns the link URL; ``stop()`` is idempotent."""

    name: ClassVar[str] = ""  # set by @register_target

    def __init__(self, *, board: str | None = None, run_dir: str | os.PathLike | None = None,
                 boot_timeout_s: float = DEFAULT_BOOT_TIMEOUT_S):
        self.board = board
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.boot_timeout_s = boot_timeout_s
        self.resets = 0
        self._clients: list[DeviceClient] = []

    # --- resource: where ---------------------------------------------------------------------

    @property
    @abc.abstractmethod
    def url(self) -> str | None:
        """pyserial URL of the device's link, or None when not started."""

    @property
    @abc.abstractmethod
    def log_path(self) -> Path | None:
        """Where the backend's own output goes (check it when something fails)."""

    @property
    @abc.abstractmethod
    def is_running(self) -> bool: ...

    # --- driver: how -------------------------------------------------------------------------

    @abc.abstractmethod
    def start(self, image) -> str:
        """Run ``image`` (a FirmwareImage or ELF path); return the link URL."""

    @abc.abstractmethod
    def _stop_backend(self) -> None:
        """Stop the emulator/board session. Called by ``stop()`` after the clients are closed."""

    def stop(self) -> None:
        self._close_clients()
        self._stop_backend()

    close = stop

    def connect(self, timeout_s: float | None = None) -> DeviceClient:
        """Open the link and wait for the device's BOOT frame; the client is closed by ``stop()``."""
        if not self.is_running or self.url is None:
            raise TargetError("not running; call start(image) first", target=self.describe())
        client = DeviceClient.open(self.url, target=self.describe(), hint=self._hint())
        try:
            client.wait_boot(self.boot_timeout_s if timeout_s is None else timeout_s)
        except BaseException:
            client.close()
            raise
        self._clients.append(client)
        return client

    def reset_device(self, timeout_s: float | None = None) -> DeviceClient:
        """Reset the device without its help (it may be hung or halted) and reconnect: every
        client of the old run is closed; the new client has seen the device's BOOT. QEMU restarts
        the emulator on the same image, pyOCD resets through the probe, Renode ``machine Reset``.
        ``resets`` counts the calls."""
        raise TargetError("this backend cannot reset a device that stopped answering", target=self.describe())

    def _close_clients(self) -> None:
        clients, self._clients = self._clients, []
        for client in clients:
            client.close()

    def describe(self) -> str:
        return f"{self.name}:{self.board}" if self.board else self.name

    def _hint(self) -> str:
        return f"target log: {self.log_path}" if self.log_path else ""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()} url={self.url} running={self.is_running}>"


class ProcessTarget(Target):
    """A target whose backend is one child process on this host (an emulator), started with
    :func:`spawn`; subclasses set ``_proc``, ``_log_path`` and ``_url`` in ``_start_process``.
    ``reset_device`` power-cycles: the same image in a new process."""

    def __init__(self, **options):
        super().__init__(**options)
        self._proc: subprocess.Popen | None = None
        self._log_file = None
        self._log_path: Path | None = None
        self._url: str | None = None

    @property
    def url(self) -> str | None:
        return self._url

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, image) -> str:
        self._image = image
        return self._start_process(image)

    @abc.abstractmethod
    def _start_process(self, image) -> str:
        """Spawn the child for ``image``; set ``_proc``, ``_log_path`` and ``_url``; return the URL."""

    def reset_device(self, timeout_s: float | None = None) -> DeviceClient:
        """A power cycle: stop the child process, start it again on the same image, reconnect."""
        if self._image is None:
            raise TargetError("not started; nothing to reset", target=self.describe())
        self.resets += 1
        self.stop()
        self.start(self._image)
        return self.connect(timeout_s)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the kernel's choice; the child binds it moments later)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


# --- child processes: none is ever left behind ------------------------------------------------

_PR_SET_PDEATHSIG = 1
_live: set[subprocess.Popen] = set()
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


def spawn(cmd: list[str], *, log_file, env: dict | None = None) -> subprocess.Popen:
    """Start a supervised child: own session (terminal Ctrl-C goes to the host, which then stops
    the child in its ``finally``), killed with the host (PDEATHSIG), at exit and on SIGTERM/SIGHUP."""
    _install_hooks()
    preexec = _die_with_parent(os.getpid()) if sys.platform.startswith("linux") else None
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                            start_new_session=True, preexec_fn=preexec, close_fds=True, env=env)
    with _live_lock:
        _live.add(proc)
    return proc


def terminate(proc: subprocess.Popen, timeout_s: float = 5.0) -> int | None:
    """SIGTERM, wait with a deadline, then SIGKILL. Returns the exit status."""
    try:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout_s)
        return proc.returncode
    finally:
        with _live_lock:
            _live.discard(proc)


def terminate_all(timeout_s: float = 2.0) -> None:
    with _live_lock:
        procs = list(_live)
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


def wait_for(condition, deadline, interval_s: float = 0.005):
    """Poll ``condition()`` until truthy or the Deadline expires; returns the last value."""
    while True:
        value = condition()
        if value or deadline.expired():
            return value
        time.sleep(min(interval_s, deadline.remaining_s()))
