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

import os
import re
import shutil
from pathlib import Path

from harness.deadline import Deadline
from harness.errors import ConfigError, TargetError, ToolMissingError
from harness.targets import register_target
from harness.targets.base import DEFAULT_BOOT_TIMEOUT_S, ProcessTarget, wait_for

QEMU = "qemu-system-arm"
QEMU_PACKAGE = "qemu-system-arm"
# firmware board folder -> QEMU machine
MACHINES = {"netduinoplus2": "netduinoplus2", "mps2-an386": "mps2-an386"}

_PORT_LINE = re.compile(r"disconnected:tcp:(?P<host>[^\s,]+):(?P<port>\d+)[,\s]")


def parse_serial_port(text: str) -> tuple[str, int] | None:
    """(host, port) from QEMU's "waiting for connection" stderr line, or None if not there yet."""
    for match in _PORT_LINE.finditer(text):
        port = int(match.group("port"))
        if port != 0:
            return match.group("host"), port
    return None


@register_target("qemu")
class QemuTarget(ProcessTarget):
    """Firmware in ``qemu-system-arm``, linked over a loopback socket (``socket://127.0.0.1:PORT``)."""

    def __init__(self, *, board: str | None = None, run_dir: str | os.PathLike | None = None,
                 boot_timeout_s: float = DEFAULT_BOOT_TIMEOUT_S, icount: bool = True,
                 start_timeout_s: float = 10.0, stop_timeout_s: float = 5.0,
                 qemu: str = QEMU, extra_args: tuple[str, ...] = ()):
        super().__init__(board=board, run_dir=run_dir, boot_timeout_s=boot_timeout_s,
                         start_timeout_s=start_timeout_s, stop_timeout_s=stop_timeout_s)
        self.icount = icount
        self.qemu = qemu
        self.extra_args = tuple(extra_args)

    def build_command(self, elf: Path) -> list[str]:
        cmd = [self.qemu, "-M", MACHINES[self.board or "netduinoplus2"], "-display", "none",
               "-monitor", "none", "-kernel", str(elf),
               "-serial", "tcp:127.0.0.1:0,server=on,wait=on,nodelay=on"]
        if self.icount:
            cmd += ["-icount", "shift=0"]
        return cmd + list(self.extra_args)

    # --- the start's hooks -----------------------------------------------------------------------

    def _check_board(self, board: str) -> None:
        if board not in MACHINES:
            raise ConfigError(f"qemu has no machine for board '{board}'; boards: {', '.join(sorted(MACHINES))}")

    def _executable(self) -> str:
        executable = shutil.which(self.qemu)
        if executable is None:
            raise ToolMissingError(self.qemu, QEMU_PACKAGE)
        return executable

    def _command(self, executable: str, elf: Path, run_dir: Path) -> list[str]:
        return [executable, *self.build_command(elf)[1:]]

    def _wait_ready(self) -> str:
        """QEMU listens once it prints the port it picked (or it exits, or the start times out)."""
        child = self._child
        assert child is not None

        def port_or_exit():
            found = parse_serial_port(child.log_path.read_text(errors="replace"))
            return found or (not child.is_running and "exited")

        found = wait_for(port_or_exit, Deadline(self.start_timeout_s))
        if isinstance(found, tuple):
            host, port = found
            return f"socket://{host}:{port}"
        if found == "exited":
            raise TargetError(f"{self.qemu} exited with status {child.returncode} before listening; "
                              f"log {child.log_path}: {child.tail()}", target=self.describe())
        raise TargetError(f"{self.qemu} printed no serial port within {self.start_timeout_s:.1f} s; "
                          f"log {child.log_path}: {child.tail()}", target=self.describe())
