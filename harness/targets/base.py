"""The Target interface every backend implements, and the lifecycle of the ones that run a
child process (child processes themselves: harness.process).

Labgrid's split: a *resource* says where (the link URL, the ELF path, the log path); a *driver*
says how (a Target starts and stops the thing that runs the firmware; ``harness.link`` speaks the
protocol over the URL).

Templates with hooks, so a backend writes only what differs:

- ``Target.connect()``: prepare the device (``_before_link``: pyOCD halts it at reset, Renode
  resets a started machine) -> open the link (``_open_link``) -> let the device run
  (``_let_run``) -> wait for BOOT (``_wait_boot``); the client is closed if any step fails.
- ``ProcessTarget.start(image)``: the board (``_check_board``) -> the executable
  (``_executable``) -> the run dir -> the command line (``_command``) -> the child, logged
  (harness.process.LoggedChild) -> ready (``_wait_ready``, which returns the link URL); any
  failure stops what was started. ``stop()`` asks the backend to quit (``_shutdown``), then
  ends the child's process group.
"""

from __future__ import annotations

import abc
import os
import time
from pathlib import Path
from typing import ClassVar

from harness.errors import ConfigError, TargetError
from harness.link.client import DeviceClient
from harness.paths import build_root
from harness.process import LoggedChild, RunsChild, new_run_dir

DEFAULT_BOARD = "netduinoplus2"
DEFAULT_BOOT_TIMEOUT_S = 10.0


def image_elf(image) -> Path:
    """The ELF of a FirmwareImage (anything with ``.elf``) or of a plain path."""
    elf = Path(getattr(image, "elf", image))
    if not elf.is_file():
        raise ConfigError(f"firmware image {elf} does not exist; build it with 'hil build'")
    return elf


def board_for_image(image, wanted: str | None, elf: Path, where: str) -> str | None:
    """The firmware board ``where`` runs ``image`` on: ``wanted`` (the target's own), which the
    image must then be built for, else the board the image is built for (None if it says none)."""
    built_for = getattr(image, "board", None)
    if wanted and built_for and built_for != wanted:
        raise ConfigError(f"image {elf} is built for board '{built_for}', but {where} runs firmware board '{wanted}'")
    return wanted or built_for


class Target(abc.ABC):
    """A place firmware runs. ``start(image)`` returns the link URL; ``stop()`` is idempotent."""

    name: ClassVar[str] = ""  # set by @register_target
    # whether connect() reboots the device (then reset_device is: close the clients, connect again)
    connect_reboots: ClassVar[bool] = False

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
        """Open the link and wait for the device's BOOT frame; the client is closed by ``stop()``.
        The steps are hooks (module docstring); on failure the new client is closed."""
        if not self.is_running or self.url is None:
            raise TargetError("not running; call start(image) first", target=self.describe())
        self._before_link()
        client = self._open_link()
        try:
            self._let_run(client)
            self._wait_boot(client, self.boot_timeout_s if timeout_s is None else timeout_s)
        except BaseException:
            client.close()
            raise
        self._clients.append(client)
        return client

    def _before_link(self) -> None:
        """Before the link opens (e.g. hold the device in reset, so its BOOT is not missed)."""

    def _open_link(self) -> DeviceClient:
        return DeviceClient.open(self.url, target=self.describe(), hint=self._hint())

    def _let_run(self, client: DeviceClient) -> None:
        """The link is open: let the device run (e.g. resume a halted core, start the machine)."""

    def _wait_boot(self, client: DeviceClient, timeout_s: float) -> None:
        client.wait_boot(timeout_s)

    def reset_device(self, timeout_s: float | None = None) -> DeviceClient:
        """Reset the device without its help (it may be hung or halted) and reconnect: every
        client of the old run is closed; the new client has seen the device's BOOT. QEMU restarts
        the emulator on the same image, pyOCD resets through the probe, Renode ``machine Reset``
        (those two because their ``connect()`` reboots the device). ``resets`` counts the calls."""
        if not self.connect_reboots:
            raise TargetError("this backend cannot reset a device that stopped answering", target=self.describe())
        if not self.is_running:
            raise TargetError("not started; nothing to reset", target=self.describe())
        self.resets += 1
        self._close_clients()
        return self.connect(timeout_s)

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


class ProcessTarget(RunsChild, Target):
    """A target whose backend is one child process on this host (an emulator). ``start()`` is a
    template (module docstring); a backend supplies ``_executable``, ``_command`` and
    ``_wait_ready`` and, where it has them, ``_check_board`` and ``_shutdown``. ``reset_device``
    power-cycles: the same image in a new process."""

    def __init__(self, *, start_timeout_s: float = 10.0, stop_timeout_s: float = 5.0, **options):
        super().__init__(**options)
        if self.board is not None:
            self._check_board(self.board)
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.command: list[str] = []
        self._image = None  # what start() ran, for reset_device
        self._log_path: Path | None = None
        self._url: str | None = None

    @property
    def url(self) -> str | None:
        return self._url

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    def start(self, image) -> str:
        if self._child is not None:
            raise TargetError("already started; stop() it first", target=self.describe())
        elf = image_elf(image)
        self._image = image
        board = board_for_image(image, self.board, elf, self.describe()) or DEFAULT_BOARD
        self._check_board(board)
        self.board = board
        try:
            executable = self._executable()
            run_dir = new_run_dir(self.name, self.run_dir, build_root() / "runs")
            self.command = self._command(executable, elf, run_dir)
            self._log_path = run_dir / (f"{self.name}.log" if not self.resets else f"{self.name}-reset{self.resets}.log")
            self._child = LoggedChild(self.command, self._log_path)
            self._url = self._wait_ready()
            return self._url
        except BaseException:
            self.stop()
            raise

    def _check_board(self, board: str) -> None:
        """Raise ConfigError if this backend cannot run firmware board ``board``."""

    @abc.abstractmethod
    def _executable(self) -> str:
        """The backend's program, found (ToolMissingError before anything is made otherwise)."""

    @abc.abstractmethod
    def _command(self, executable: str, elf: Path, run_dir: Path) -> list[str]:
        """The child's command line for ``elf`` (files it needs are written to ``run_dir``)."""

    @abc.abstractmethod
    def _wait_ready(self) -> str:
        """Wait until the started child serves the link; return its URL. May raise (the start
        then stops everything)."""

    def _shutdown(self) -> None:
        """Ask the backend to quit before its process group is stopped (nothing by default)."""

    def _stop_backend(self) -> None:
        self._url = None
        try:
            if self._child is not None:
                self._shutdown()
        finally:
            self._stop_child(self.stop_timeout_s)

    def reset_device(self, timeout_s: float | None = None) -> DeviceClient:
        """A power cycle: stop the child process, start it again on the same image, reconnect.
        A backend whose connect() reboots the device resets in place instead (Renode: the
        emulator and its UART socket stay up)."""
        if self.connect_reboots:
            return super().reset_device(timeout_s)
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
