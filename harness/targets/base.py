"""The Target interface every backend implements (child processes: harness.process).

Labgrid's split: a *resource* says where (the link URL, the ELF path, the log path); a *driver*
says how (a Target starts and stops the thing that runs the firmware; ``harness.link`` speaks the
protocol over the URL).
"""

from __future__ import annotations

import abc
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

from harness.errors import ConfigError, TargetError
from harness.link.client import DeviceClient
# the process module's names, as the targets' own (backends and tests import them from here too)
from harness.process import _die_with_parent, free_port, live_pids, spawn, terminate, terminate_all  # noqa: F401

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
        self._image = None  # what start() ran, for reset_device
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


def wait_for(condition, deadline, interval_s: float = 0.005):
    """Poll ``condition()`` until truthy or the Deadline expires; returns the last value."""
    while True:
        value = condition()
        if value or deadline.expired():
            return value
        time.sleep(min(interval_s, deadline.remaining_s()))
