"""An emulated board for the pyOCD path: QEMU's netduinoplus2, halted at power-on, with its gdbstub
(the "debug probe") and USART1 (the "virtual COM port") on loopback TCP ports.

    qemu-system-arm -M netduinoplus2 -display none -monitor none -S \\
        -gdb tcp:127.0.0.1:GDB_PORT -serial tcp:127.0.0.1:SERIAL_PORT,server=on,wait=off,nodelay=on \\
        -icount shift=0

No ``-kernel``: the flash is empty (zeros) until pyOCD programs it. ``wait=off`` because the
host opens the serial port only after flashing, while the core is still halted, so nothing is
lost. The process is a harness.process.LoggedChild, as the targets' are: stopped in ``stop()``,
at exit, and with the host. (Not a harness.targets ProcessTarget: it runs no image, and the
targets package imports this one.)
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from harness.deadline import Deadline
from harness.paths import build_root
from harness.errors import TargetError, ToolMissingError
from harness.process import LoggedChild, RunsChild, free_port, new_run_dir

QEMU = "qemu-system-arm"
MACHINE = "netduinoplus2"
TARGET_TYPE = "qemu_netduinoplus2"


class QemuGdbBoard(RunsChild):
    """One emulated board. ``start()`` returns once QEMU listens on both ports."""

    def __init__(self, *, run_dir: str | os.PathLike | None = None, icount: bool = True,
                 qemu: str = QEMU, start_timeout_s: float = 10.0, stop_timeout_s: float = 5.0):
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.icount = icount
        self.qemu = qemu
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.gdb_port: int | None = None
        self.serial_port: int | None = None
        self.log_path: Path | None = None
        self.command: list[str] = []

    @property
    def probe_id(self) -> str:
        return f"qemu:127.0.0.1:{self.gdb_port}"

    @property
    def serial_url(self) -> str:
        return f"socket://127.0.0.1:{self.serial_port}"

    def build_command(self, gdb_port: int, serial_port: int) -> list[str]:
        cmd = [self.qemu, "-M", MACHINE, "-display", "none", "-monitor", "none", "-S",
               "-gdb", f"tcp:127.0.0.1:{gdb_port}",
               "-serial", f"tcp:127.0.0.1:{serial_port},server=on,wait=off,nodelay=on"]
        return cmd + (["-icount", "shift=0"] if self.icount else [])

    def start(self) -> "QemuGdbBoard":
        if self._child is not None:
            raise TargetError("emulated board already started", target="pyocd:qemu")
        executable = shutil.which(self.qemu)
        if executable is None:
            raise ToolMissingError(self.qemu, "qemu-system-arm")
        self.log_path = new_run_dir("pyocd-qemu", self.run_dir, build_root() / "runs") / "qemu-gdb.log"
        try:
            # a port picked here can be taken before QEMU binds it: try again with fresh ports
            for attempt in range(3):
                self.gdb_port, self.serial_port = free_port(), free_port()
                self.command = [executable, *self.build_command(self.gdb_port, self.serial_port)[1:]]
                self._child = LoggedChild(self.command, self.log_path, append=attempt > 0)
                if self._wait_listening():
                    return self
                self._stop_child(self.stop_timeout_s)
            raise TargetError(f"{self.qemu} did not start listening; log {self.log_path}", target="pyocd:qemu")
        except BaseException:
            self.stop()
            raise

    def _wait_listening(self) -> bool:
        """True once the serial port accepts connections (QEMU creates the gdbstub before it)."""
        deadline = Deadline(self.start_timeout_s)
        while not deadline.expired():
            if not self.is_running:
                return False
            # a connect() probe would take the serial chardev's only client slot, so look for
            # the listening sockets in /proc instead
            if _listening(self.serial_port) and _listening(self.gdb_port):
                return True
            time.sleep(0.01)
        return False

    def stop(self) -> None:
        self._stop_child(self.stop_timeout_s)

    def __enter__(self) -> "QemuGdbBoard":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _listening(port: int) -> bool:
    """Whether a TCP socket listens on 127.0.0.1:port (Linux /proc/net/tcp, state 0A)."""
    wanted = f"0100007F:{port:04X}"
    try:
        with open("/proc/net/tcp") as table:
            return any(line.split()[1] == wanted and line.split()[3] == "0A" for line in list(table)[1:])
    except OSError:
        return True  # no /proc: the probe's connect retries cover the rest
