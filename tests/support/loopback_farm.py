"""A labgrid board farm on loopback, for tests: a coordinator, one exporter, N emulated boards.

    with LoopbackFarm(work_dir, places=("p1", "p2")) as farm:
        farm.coordinator          # "127.0.0.1:PORT"
        ...                       # create_target("labgrid", place="p1", coordinator=farm.coordinator)

Each board is QEMU's netduinoplus2 halted at power-on with an empty flash
(harness.pyocd_qemu.board.QemuGdbBoard). Its USART1 (a loopback TCP port) is bridged by socat to
a pty, which the exporter exports as a RawSerialPort (so served by the ser2net it spawns, over
RFC 2217, as on a real exporter); its gdbstub is exported as a NetworkService named
``gdbstub``: the place's "probe". Every process runs in its own process group and is stopped in
``stop()`` (SIGTERM to the group, then SIGKILL), in reverse order of start.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from pathlib import Path

from harness.deadline import Deadline
from harness.errors import TargetError, ToolMissingError
from harness.farm.client import LabgridClient
from harness.pyocd_qemu.board import QemuGdbBoard
from harness.process import LoggedChild, free_port

EXPORTER_NAME = "loopback"


def _venv_tool(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return str(beside)
    import shutil
    found = shutil.which(name)
    if found is None:
        raise ToolMissingError(name, "labgrid (pip install 'tinyml-hil[farm]')")
    return found


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def exporter_config(boards: dict[str, tuple[Path, int]], speed: int = 115200) -> str:
    """The exporter YAML: per place a group with the UART pty and the gdbstub port."""
    lines = []
    for place, (pty, gdb_port) in boards.items():
        lines += [f"{place}:",
                  "  location: loopback",
                  "  RawSerialPort:",
                  f"    port: {pty}",
                  f"    speed: {speed}",
                  "  gdbstub:",
                  "    cls: NetworkService",
                  "    address: 127.0.0.1",
                  "    username: ''",
                  f"    port: {gdb_port}"]
    return "\n".join(lines) + "\n"


class LoopbackFarm:
    def __init__(self, work_dir: str | os.PathLike, places=("p1", "p2"), *, start_timeout_s: float = 30.0,
                 exporter_name: str = EXPORTER_NAME):
        self.work_dir = Path(work_dir)
        self.places = tuple(places)
        self.start_timeout_s = start_timeout_s
        self.exporter_name = exporter_name
        self.coordinator: str | None = None
        self.boards: dict[str, QemuGdbBoard] = {}
        self.processes: list[LoggedChild] = []
        self.exporter: LoggedChild | None = None
        self.client: LabgridClient | None = None

    def pids(self) -> list[int]:
        """Every process the farm started that still runs (the groups' members included)."""
        pids = [p.pid for p in self.processes if p.is_running] + [b.pid for b in self.boards.values() if b.is_running]
        return sorted(pids)

    def start(self) -> "LoopbackFarm":
        self.work_dir.mkdir(parents=True, exist_ok=True)
        deadline = Deadline(self.start_timeout_s)
        try:
            self._start_coordinator(deadline)
            ptys = {place: self._start_board(place, deadline) for place in self.places}
            self.start_exporter(ptys)
            self._create_places(deadline)
            return self
        except BaseException:
            self.stop()
            raise

    def _start_coordinator(self, deadline: Deadline) -> None:
        port = free_port()
        coordinator_dir = self.work_dir / "coordinator"
        coordinator_dir.mkdir(exist_ok=True)
        proc = LoggedChild([_venv_tool("labgrid-coordinator"), "-l", f"127.0.0.1:{port}"],
                           self.work_dir / "coordinator.log", name="coordinator", cwd=coordinator_dir)
        self.processes.append(proc)
        # gRPC's listening socket is not always in /proc/net/tcp (dual stack): connect instead
        self._wait(lambda: _accepts(port), deadline, f"labgrid-coordinator listening on {port}", proc)
        self.coordinator = f"127.0.0.1:{port}"
        self.client = LabgridClient(self.coordinator, username="farm-admin")

    def _start_board(self, place: str, deadline: Deadline) -> tuple[Path, int]:
        board = QemuGdbBoard(run_dir=self.work_dir / place).start()
        self.boards[place] = board
        pty = self.work_dir / f"{place}-uart"
        socat = LoggedChild(["socat", f"pty,link={pty},raw,echo=0", f"tcp:127.0.0.1:{board.serial_port},nodelay"],
                            self.work_dir / f"socat-{place}.log", name=f"socat-{place}")
        self.processes.append(socat)
        self._wait(pty.exists, deadline, f"socat's pty {pty}", socat)
        # the exporter serves device nodes only (it asserts a /dev/ path): the pty itself
        return Path(os.path.realpath(pty)), board.gdb_port

    def start_exporter(self, ptys: dict[str, tuple[Path, int]] | None = None, timeout_s: float = 20.0) -> LoggedChild:
        """Start the exporter (again, after ``kill_exporter``) and wait until the coordinator
        lists every place's serial port and probe."""
        config = self.work_dir / "exporter.yaml"
        if ptys is not None:
            config.write_text(exporter_config(ptys))
        self.exporter = LoggedChild([_venv_tool("labgrid-exporter"), "-c", self.coordinator, "-n", self.exporter_name,
                                     "--hostname", "127.0.0.1", str(config)],
                                    self.work_dir / "exporter.log", name="exporter")
        self.processes.append(self.exporter)

        def exported() -> bool:
            text = self.client.run("resources", check=False).stdout
            return all(f"{self.exporter_name}/{place}/NetworkSerialPort" in text and
                       f"{self.exporter_name}/{place}/NetworkService" in text for place in self.places)

        self._wait(exported, Deadline(timeout_s), "the exporter's resources at the coordinator", self.exporter,
                   interval_s=0.3)
        return self.exporter

    def _create_places(self, deadline: Deadline) -> None:
        for place in self.places:
            self.client.create_place(place, [f"{self.exporter_name}/{place}/*"])

    def _wait(self, condition, deadline: Deadline, what: str, proc: LoggedChild | None, interval_s: float = 0.05):
        while not condition():
            if proc is not None and not proc.is_running:
                raise TargetError(f"{proc.name} exited while waiting for {what}; log {proc.log_path}: "
                                  f"{proc.tail(800)}", target="labgrid-farm")
            if deadline.expired():
                raise TargetError(f"timed out waiting for {what}; log {proc.log_path if proc else '-'}",
                                  target="labgrid-farm")
            time.sleep(min(interval_s, deadline.remaining_s()))

    def kill_exporter(self) -> None:
        """The exporter host dies: SIGKILL the exporter's group (ser2net with it)."""
        if self.exporter is not None:
            self.exporter.signal_group(signal.SIGKILL)
            self.exporter.wait_exit(5)

    def stop(self) -> None:
        errors = []
        for proc in reversed(self.processes):
            try:
                proc.stop()
            except Exception as e:  # noqa: BLE001 - stop the rest, then report
                errors.append(e)
        for board in self.boards.values():
            try:
                board.stop()
            except Exception as e:  # noqa: BLE001
                errors.append(e)
        if errors:
            raise errors[0]

    def __enter__(self) -> "LoopbackFarm":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
