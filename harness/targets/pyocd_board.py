"""pyOCD backend: flash a real board through its debug probe, then talk over its serial port.

    with create_target("pyocd", inventory_board="nucleo-f446re-1") as target:   # from boards.toml
        target.start(image)          # lock, session, program + verify, reset and halt
        client = target.connect()    # open the port, run, wait for BOOT
    create_target("pyocd", probe="066DFF...", target_type="stm32f446retx", port="auto", baud=115200)
    create_target("pyocd", probe="qemu")                 # emulated board: QEMU + harness.pyocd_qemu
    create_target("pyocd", probe="qemu:127.0.0.1:3333", port="socket://127.0.0.1:4444")

Sequence (labgrid's strategy, one step per state): lock the board -> open a pyOCD session on the
probe chosen by unique ID (never the interactive picker) with the target type override ->
FileProgrammer(session).program(elf) -> read every loaded ELF segment back and compare ->
reset and halt. ``connect()`` then opens the serial port *before* letting the core run, so the
BOOT frame is never lost, resumes the core and waits for BOOT. Each connect() reboots the board
that way. ``stop()`` closes the port, ends the session (the core is left running), stops an
emulated board and releases the lock.

Probe ids go to pyOCD unchanged: a UID, ``remote:HOST:PORT`` (a ``pyocd server`` elsewhere), or
``qemu:HOST:PORT`` (harness.pyocd_qemu). Failures raise BoardError subclasses naming board, probe
UID and port: ProbeNotFoundError (absent or lost probe), FlashError, PortError, BoardBusyError.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import time
from pathlib import Path

from harness.boards.inventory import DEFAULT_BAUD, BoardEntry, default_inventory_path, load_inventory
from harness.boards.lock import BoardLock, acquire_any
from harness.boards.ports import AUTO_PORT, PortNotFound, normalise_port, resolve_port
from harness.errors import (BoardError, ConfigError, FlashError, LinkError, PortError, ProbeNotFoundError,
                            TargetError)
from harness.link.client import DeviceClient
from harness.link.transport import Transport
from harness.targets import register_target
from harness.targets.base import DEFAULT_BOOT_TIMEOUT_S, Target, board_for_image, image_elf

log = logging.getLogger(__name__)

QEMU_PROBE = "qemu"  # "launch an emulated board"


def _lock_name(probe: str) -> str:
    return "probe-" + re.sub(r"[^A-Za-z0-9_.-]", "_", probe)


def elf_load_segments(elf: Path) -> list[tuple[int, bytes]]:
    """(load address, bytes) of each PT_LOAD segment with file contents: what lands in flash."""
    from elftools.elf.elffile import ELFFile
    segments = []
    with open(elf, "rb") as stream:
        for segment in ELFFile(stream).iter_segments():
            if segment["p_type"] == "PT_LOAD" and segment["p_filesz"] > 0:
                segments.append((segment["p_paddr"], segment.data()[:segment["p_filesz"]]))
    return segments


def is_busy_port_error(error: BaseException) -> bool:
    """Whether opening a port failed because another program holds it."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno == errno.EBUSY:
            return True
        if re.search(r"busy|exclusively lock|Errno 16\b", str(seen), re.IGNORECASE):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@register_target("pyocd")
class PyocdTarget(Target):
    """A board flashed through pyOCD (real probe, remote probe server, or QEMU's gdbstub). Each
    connect() reboots the board (reset and halt through the probe, then run once the port is open),
    which is also how a board that stopped answering is reset (a hung core is halted and reset
    by the debug port, whatever it runs)."""

    connect_reboots = True

    def __init__(self, *, board: str | None = None, run_dir: str | os.PathLike | None = None,
                 boot_timeout_s: float = DEFAULT_BOOT_TIMEOUT_S,
                 inventory_board: str | None = None, inventory: str | os.PathLike | None = None,
                 probe: str | None = None, target_type: str | None = None, port: str | None = None,
                 baud: int | None = None, frequency_hz: int | None = None,
                 lock_dir: str | os.PathLike | None = None, lock_timeout_s: float = 0.0,
                 verify: bool = True, pyocd_options: dict | None = None, port_lister=None):
        super().__init__(board=board, run_dir=run_dir, boot_timeout_s=boot_timeout_s)
        if inventory_board is None and probe is None:
            raise ConfigError("pyocd target needs a board from the inventory (inventory_board=, "
                              "--inventory-board NAME) or a probe (probe=UID, 'qemu' or 'remote:HOST:PORT')")
        self.inventory_board = inventory_board
        self.inventory_path = Path(inventory) if inventory is not None else None
        self.probe = probe
        self.target_type = target_type
        self.port = normalise_port(port) if port is not None else None
        self.baud = baud
        self.frequency_hz = frequency_hz
        self.lock_dir = lock_dir
        self.lock_timeout_s = lock_timeout_s
        self.verify = verify
        self.pyocd_options = dict(pyocd_options or {})
        self.port_lister = port_lister
        self.entry: BoardEntry | None = None
        self.flash_s: float | None = None
        self.verify_s: float | None = None
        self.session_open_s: float | None = None
        self.flashed_bytes = 0
        self._session = None
        self._lock: BoardLock | None = None
        self._emulator = None
        self._url: str | None = None
        self._run_dir: Path | None = None

    # --- resource ----------------------------------------------------------------------------------

    @property
    def url(self) -> str | None:
        return self._url

    @property
    def log_path(self) -> Path | None:
        return self._emulator.log_path if self._emulator is not None else None

    @property
    def is_running(self) -> bool:
        return self._session is not None

    @property
    def session(self):
        """The open pyOCD Session (for resets, memory reads, ...), or None."""
        return self._session

    @property
    def board_name(self) -> str:
        if self.entry is not None:
            return self.entry.name
        return self.inventory_board or self.probe or "?"

    def describe(self) -> str:
        return f"pyocd:{self.board_name}"

    def _facts(self) -> dict:
        return {"board": self.board_name, "probe_uid": self._probe_uid(), "port": self._url or self.port}

    def _probe_uid(self) -> str | None:
        if self._emulator is not None:
            return self._emulator.probe_id
        if self.entry is not None:
            return self.entry.pyocd_unique_id
        return self.probe

    # --- driver: start -----------------------------------------------------------------------------

    def start(self, image) -> str:
        if self._session is not None:
            raise TargetError("already started; stop() it first", target=self.describe())
        elf = image_elf(image)
        try:
            self._take_board()
            self._check_image_board(image, elf)
            self._launch_emulator_if_asked()
            self._url = self._resolve_port()
            self._open_session()
            self._program(elf)
            self._reset(halt=True)
            return self._url
        except BaseException:
            self.stop()
            raise

    def _take_board(self) -> None:
        if self.inventory_board is not None:
            path = self.inventory_path or default_inventory_path()
            if path is None:
                raise ConfigError("no board inventory: pass --hil-inventory PATH, set $HIL_INVENTORY "
                                  "or create boards.toml (see boards.example.toml)")
            inventory = load_inventory(path)
            entries = inventory.select(self.inventory_board)
            if entries[0].probe == QEMU_PROBE:
                self.entry = entries[0]  # each start launches a private emulated board: nothing to lock
            else:
                lock_dir = self.lock_dir or inventory.lock_dir
                self._lock = acquire_any([e.name for e in entries], lock_dir, self.lock_timeout_s)
                self.entry = inventory.board(self._lock.board)
                log.info("locked board %s (%s)", self.entry.name, self._lock.path)
            # explicit arguments override the inventory entry
            self.probe = self.probe or self.entry.pyocd_unique_id
            self.target_type = self.target_type or self.entry.target
            self.port = self.port or self.entry.port
            self.baud = self.baud or self.entry.baud
            self.frequency_hz = self.frequency_hz or self.entry.frequency_hz
        elif self.probe != QEMU_PROBE:
            # an ad-hoc probe is still one user at a time
            self._lock = BoardLock(_lock_name(self.probe), self.lock_dir).acquire(self.lock_timeout_s)
        if self.probe == QEMU_PROBE or (self.probe or "").lower().startswith("qemu:"):
            from harness.pyocd_qemu import register
            register()
            self.target_type = self.target_type or "qemu_netduinoplus2"

    def _check_image_board(self, image, elf: Path) -> None:
        wanted = self.board or (self.entry.firmware_board if self.entry else None)
        if self.probe == QEMU_PROBE:
            wanted = wanted or "netduinoplus2"
        self.board = board_for_image(image, wanted, elf, self.describe())

    def _launch_emulator_if_asked(self) -> None:
        if self.probe != QEMU_PROBE:
            return
        from harness.pyocd_qemu.board import QemuGdbBoard
        self._emulator = QemuGdbBoard(run_dir=self.run_dir).start()

    def _resolve_port(self) -> str:
        port = self.port or AUTO_PORT
        if self._emulator is not None and port == AUTO_PORT:
            return self._emulator.serial_url
        try:
            return resolve_port(port, self.probe, self.port_lister)
        except PortNotFound as e:
            raise PortError(str(e), **self._facts()) from e

    def _open_session(self) -> None:
        from pyocd.core import exceptions as pyocd_errors
        from pyocd.core.helpers import ConnectHelper
        if not self.target_type:
            raise ConfigError(f"{self.describe()}: no pyOCD target type; set 'target' in the inventory "
                              f"or target_type= (see `pyocd list --targets`)")
        options = {"connect_mode": "halt", "resume_on_disconnect": True, "hide_programming_progress": True,
                   **self.pyocd_options}
        if self.frequency_hz:
            options["frequency"] = self.frequency_hz
        started = time.monotonic()
        try:
            session = ConnectHelper.session_with_chosen_probe(
                unique_id=self._probe_uid(), target_override=self.target_type, blocking=False,
                return_first=False, auto_open=False, options=options)
        except pyocd_errors.Error as e:
            raise ProbeNotFoundError(f"pyOCD cannot use the probe: {e}", **self._facts()) from e
        if session is None:
            raise ProbeNotFoundError("no such debug probe is connected; `pyocd list` shows the probes "
                                     "present (for a remote probe, is `pyocd server` running?)", **self._facts())
        try:
            session.open()
        except pyocd_errors.ProbeDisconnected as e:
            session.close()
            raise ProbeNotFoundError(f"probe lost while connecting: {e}", **self._facts()) from e
        except (pyocd_errors.Error, OSError) as e:
            session.close()
            raise BoardError(f"pyOCD could not connect to target '{self.target_type}': {e}; check the "
                             f"target type, power and the SWD wiring", **self._facts()) from e
        self._session = session
        self.session_open_s = time.monotonic() - started

    def _program(self, elf: Path) -> None:
        from pyocd.core import exceptions as pyocd_errors
        from pyocd.flash.file_programmer import FileProgrammer
        started = time.monotonic()
        try:
            FileProgrammer(self._session).program(str(elf), file_format="elf")
        except pyocd_errors.ProbeDisconnected as e:
            raise ProbeNotFoundError(f"probe lost while flashing {elf}: {e}", **self._facts()) from e
        except (pyocd_errors.Error, ValueError, OSError) as e:
            raise FlashError(f"flashing {elf} failed: {e}", **self._facts()) from e
        self.flash_s = time.monotonic() - started
        segments = elf_load_segments(elf)
        self.flashed_bytes = sum(len(data) for _, data in segments)
        if self.verify:
            started = time.monotonic()
            self._verify(elf, segments)
            self.verify_s = time.monotonic() - started

    def _verify(self, elf: Path, segments: list[tuple[int, bytes]]) -> None:
        from pyocd.core import exceptions as pyocd_errors
        target = self._session.target
        for address, expected in segments:
            try:
                actual = bytes(target.read_memory_block8(address, len(expected)))
            except pyocd_errors.Error as e:
                raise FlashError(f"reading back 0x{address:08x} to verify {elf} failed: {e}", **self._facts()) from e
            if actual != expected:
                offset = next(i for i, (a, b) in enumerate(zip(actual, expected)) if a != b)
                raise FlashError(f"verify failed: 0x{address + offset:08x} reads 0x{actual[offset]:02x}, "
                                 f"{elf.name} has 0x{expected[offset]:02x}", **self._facts())

    def _reset(self, halt: bool) -> None:
        from pyocd.core import exceptions as pyocd_errors
        try:
            if halt:
                self._session.target.reset_and_halt()
            else:
                self._session.target.reset()
        except pyocd_errors.ProbeDisconnected as e:
            raise ProbeNotFoundError(f"probe lost while resetting: {e}", **self._facts()) from e
        except pyocd_errors.Error as e:
            raise BoardError(f"reset failed: {e}", **self._facts()) from e

    def _resume(self) -> None:
        from pyocd.core import exceptions as pyocd_errors
        try:
            self._session.target.resume()
        except pyocd_errors.ProbeDisconnected as e:
            raise ProbeNotFoundError(f"probe lost: {e}", **self._facts()) from e

    # --- driver: link (the hooks of Target.connect) ------------------------------------------------

    def _before_link(self) -> None:
        """Halt at reset, so the BOOT frame comes only once the port is open."""
        self._reset(halt=True)

    def _open_link(self) -> DeviceClient:
        try:
            return DeviceClient(Transport.open(self._url, baudrate=self.baud or DEFAULT_BAUD),
                                target=self.describe(), hint=self._hint())
        except LinkError as e:
            why = ("is busy: another program has it open (a terminal, ModemManager? `fuser` names it)"
                   if is_busy_port_error(e) else f"cannot be opened: {e.__cause__ or e}")
            raise PortError(f"serial port {why}", **self._facts()) from e

    def _let_run(self, client: DeviceClient) -> None:
        # the core is halted: anything on the line now is a previous session's (a network port's
        # buffers may hold its replies and even its BOOT); a network port gets longer to hand it over
        client.discard_input(quiet_s=0.3 if self._url.startswith(("rfc2217://", "socket://")) else 0.1)
        self._resume()

    def _hint(self) -> str:
        facts = self._facts()
        hint = f"board {facts['board']}, probe {facts['probe_uid']}, port {facts['port']}"
        return hint + (f"; emulator log: {self.log_path}" if self.log_path else "")

    # --- driver: stop ------------------------------------------------------------------------------

    def _stop_backend(self) -> None:
        session, self._session = self._session, None
        emulator, self._emulator = self._emulator, None
        lock, self._lock = self._lock, None
        self._url = None
        try:
            if session is not None:
                try:
                    session.close()
                except Exception as e:  # a lost probe must not keep the emulator and the lock alive
                    log.warning("closing the pyOCD session of %s failed: %s", self.board_name, e)
        finally:
            try:
                if emulator is not None:
                    emulator.stop()
            finally:
                if lock is not None:
                    lock.release()
