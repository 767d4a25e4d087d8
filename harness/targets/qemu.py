"""QEMU backend: ``qemu-system-arm`` with the firmware's UART on a loopback TCP port QEMU picks.

    qemu-system-arm -M netduinoplus2 -display none -monitor none -kernel fw.elf \\
        -serial tcp:127.0.0.1:0,server=on,wait=on,nodelay=on -icount shift=0

- port 0: QEMU picks a free port and prints it on stderr ("... disconnected:tcp:127.0.0.1:PORT,server=on");
  the same line echoes our own "-serial tcp:127.0.0.1:0", so only the ``disconnected:`` form counts.
- ``wait=on`` holds the guest until the host connects, so BOOT is never lost.
- ``nodelay=on``: without it each small request/reply costs ~48 ms (Nagle + delayed ACK).
- ``-icount shift=0``: one guest instruction = 1 ns of virtual time, so SysTick-based cost figures
  are deterministic instruction counts. Costs host->device ECHO throughput only a few percent
  (see benchmarks/bench_echo.py); ``icount=False`` turns it off.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import time
from pathlib import Path

from harness.paths import build_root
from harness.deadline import Deadline
from harness.errors import ConfigError, TargetError, ToolMissingError
from harness.targets import register_target
from harness.targets.base import (
    DEFAULT_BOOT_TIMEOUT_S,
    ProcessTarget,
    image_elf,
    spawn,
    terminate,
    wait_for,
)

QEMU = "qemu-system-arm"
QEMU_PACKAGE = "qemu-system-arm"
# firmware board folder -> QEMU machine
MACHINES = {"netduinoplus2": "netduinoplus2", "mps2-an386": "mps2-an386"}

_PORT_LINE = re.compile(r"disconnected:tcp:(?P<host>[^\s,]+):(?P<port>\d+)[,\s]")
_run_counter = itertools.count(1)


def parse_serial_port(text: str) -> tuple[str, int] | None:
    """(host, port) from QEMU's "waiting for connection" stderr line, or None if not there yet."""
    for match in _PORT_LINE.finditer(text):
        port = int(match.group("port"))
        if port != 0:
            return match.group("host"), port
    return None


def _tail(path: Path | None, max_chars: int = 600) -> str:
    if path is None or not path.exists():
        return ""
    return path.read_text(errors="replace")[-max_chars:].strip()


@register_target("qemu")
class QemuTarget(ProcessTarget):
    """Firmware in ``qemu-system-arm``, linked over a loopback socket (``socket://127.0.0.1:PORT``)."""

    def __init__(self, *, board: str | None = None, run_dir: str | os.PathLike | None = None,
                 boot_timeout_s: float = DEFAULT_BOOT_TIMEOUT_S, icount: bool = True,
                 start_timeout_s: float = 10.0, stop_timeout_s: float = 5.0,
                 qemu: str = QEMU, extra_args: tuple[str, ...] = ()):
        super().__init__(board=board, run_dir=run_dir, boot_timeout_s=boot_timeout_s)
        if board is not None and board not in MACHINES:
            raise ConfigError(f"qemu has no machine for board '{board}'; boards: {', '.join(sorted(MACHINES))}")
        self.icount = icount
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.qemu = qemu
        self.extra_args = tuple(extra_args)
        self.command: list[str] = []

    def build_command(self, elf: Path) -> list[str]:
        cmd = [self.qemu, "-M", MACHINES[self.board or "netduinoplus2"], "-display", "none",
               "-monitor", "none", "-kernel", str(elf),
               "-serial", "tcp:127.0.0.1:0,server=on,wait=on,nodelay=on"]
        if self.icount:
            cmd += ["-icount", "shift=0"]
        return cmd + list(self.extra_args)

    def _start_process(self, image) -> str:
        if self._proc is not None:
            raise TargetError("already started; stop() it first", target=self.describe())
        elf = image_elf(image)
        image_board = getattr(image, "board", None)
        if self.board is None:
            self.board = image_board or "netduinoplus2"
            if self.board not in MACHINES:
                raise ConfigError(f"qemu has no machine for board '{self.board}'; "
                                  f"boards: {', '.join(sorted(MACHINES))}")
        elif image_board is not None and image_board != self.board:
            raise ConfigError(f"image {elf} is built for board '{image_board}', target is '{self.board}'")
        executable = shutil.which(self.qemu)
        if executable is None:
            raise ToolMissingError(self.qemu, QEMU_PACKAGE)
        run_dir = self.run_dir or (build_root() / "runs" /
                                   f"qemu-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{next(_run_counter)}")
        run_dir.mkdir(parents=True, exist_ok=True)
        self._log_path = run_dir / ("qemu.log" if not self.resets else f"qemu-reset{self.resets}.log")
        self.command = self.build_command(elf)
        self.command[0] = executable
        self._log_file = open(self._log_path, "wb")
        try:
            self._log_file.write(("$ " + " ".join(self.command) + "\n").encode())
            self._log_file.flush()
            self._proc = spawn(self.command, log_file=self._log_file)
            host, port = self._wait_for_port()
            self._url = f"socket://{host}:{port}"
            return self._url
        except BaseException:
            self.stop()
            raise

    def _wait_for_port(self) -> tuple[str, int]:
        deadline = Deadline(self.start_timeout_s)
        assert self._log_path is not None and self._proc is not None

        def port_or_exit():
            found = parse_serial_port(self._log_path.read_text(errors="replace"))
            return found or (self._proc.poll() is not None and "exited")

        found = wait_for(port_or_exit, deadline)
        if isinstance(found, tuple):
            return found
        if found == "exited":
            raise TargetError(f"{self.qemu} exited with status {self._proc.returncode} before listening; "
                              f"log {self._log_path}: {_tail(self._log_path)}", target=self.describe())
        raise TargetError(f"{self.qemu} printed no serial port within {self.start_timeout_s:.1f} s; "
                          f"log {self._log_path}: {_tail(self._log_path)}", target=self.describe())

    def _stop_backend(self) -> None:
        proc, self._proc = self._proc, None
        self._url = None
        try:
            if proc is not None:
                terminate(proc, self.stop_timeout_s)
        finally:
            log_file, self._log_file = self._log_file, None
            if log_file is not None:
                log_file.close()
