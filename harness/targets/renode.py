"""Renode backend: the firmware on Renode's STM32F4 platform, the link on a server socket terminal.

    renode --disable-xwt --plain --port MONITOR_PORT RUN_DIR/hil.resc

``hil.resc`` (see :func:`monitor_commands`)::

    mach create "hil"
    machine LoadPlatformDescription @platforms/cpus/stm32f4.repl
    sysbus LoadELF @/abs/path/firmware.elf
    emulation CreateServerSocketTerminal UART_PORT "term" false
    connector Connect sysbus.usart1 term

- ``false``: no telnet negotiation on the UART socket (it would corrupt the binary protocol).
- The machine is *not* started by the script: ``connect()`` opens ``socket://127.0.0.1:UART_PORT``
  first, then sends ``start`` on the monitor, so the BOOT frame is never lost. Later connects
  ``pause`` and ``machine Reset`` first, so each connect sees a fresh boot.
- The monitor (``--port``) is a line-based telnet console; :class:`RenodeMonitor` strips the
  negotiation bytes and colour codes and waits for the prompt. ``stop()`` sends ``quit``, then
  SIGTERM/SIGKILL with deadlines, like the QEMU backend.
- Renode's stm32f4.repl names the UARTs usart1, usart2, usart3, uart4, uart5; the board decides
  which one carries the link (netduinoplus2: usart1, nucleo_f446re: usart2).

Renode is not installable on this project's machines, so this backend is tested against a fake
monitor and its commands are unit-tested; tests that need Renode skip where it is not on PATH.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from harness.paths import build_root
from harness.deadline import Deadline
from harness.errors import ConfigError, TargetError, ToolMissingError
from harness.link.client import DeviceClient
from harness.targets import register_target
from harness.targets.base import (
    DEFAULT_BOOT_TIMEOUT_S,
    ProcessTarget,
    free_port,
    image_elf,
    spawn,
    terminate,
)

RENODE = "renode"
RENODE_INSTALL_HINT = ("Renode is not packaged for Debian: unpack the linux-portable release from "
                       "https://github.com/renode/renode/releases and put it on PATH")
DEFAULT_PLATFORM = "platforms/cpus/stm32f4.repl"
MACHINE_NAME = "hil"
TERMINAL_NAME = "term"
UART_NAMES = ("usart1", "usart2", "usart3", "uart4", "uart5")


@dataclass(frozen=True)
class RenodeBoard:
    platform: str
    uart: str


# firmware board folder -> where its link UART is on Renode
BOARDS = {
    "netduinoplus2": RenodeBoard(DEFAULT_PLATFORM, "usart1"),
    "nucleo_f446re": RenodeBoard(DEFAULT_PLATFORM, "usart2"),
}
_run_counter = itertools.count(1)


class RenodeMissingError(ToolMissingError):
    """``renode`` is not on PATH (it is not a Debian package, so the usual hint does not apply)."""

    def __init__(self, tool: str = RENODE):
        self.tool = tool
        self.package = ""
        Exception.__init__(self, f"{tool} not found on PATH; {RENODE_INSTALL_HINT}")


def _renode_path(path: Path | str) -> str:
    text = str(path)
    if re.search(r"[\s\"']", text):
        raise ConfigError(f"Renode's @path syntax cannot take '{text}' (spaces or quotes); "
                          f"build or copy the firmware to a plain path")
    return "@" + text


def monitor_commands(elf: Path | str, uart_port: int, *, uart: str = "usart1",
                     platform: str = DEFAULT_PLATFORM, machine: str = MACHINE_NAME,
                     start: bool = False) -> list[str]:
    """The monitor commands that build the machine, load ``elf`` and put ``uart`` on a socket."""
    if uart not in UART_NAMES:
        raise ConfigError(f"Renode's stm32f4 has no UART '{uart}'; its UARTs: {', '.join(UART_NAMES)}")
    if not 0 < uart_port < 65536:
        raise ConfigError(f"bad UART port {uart_port}")
    commands = [f'mach create "{machine}"',
                f"machine LoadPlatformDescription {_renode_path(platform) if not platform.startswith('@') else platform}",
                f"sysbus LoadELF {_renode_path(Path(elf).resolve())}",
                # false: a raw socket, no telnet negotiation bytes in the binary link
                f'emulation CreateServerSocketTerminal {uart_port} "{TERMINAL_NAME}" false',
                f"connector Connect sysbus.{uart} {TERMINAL_NAME}"]
    if start:
        commands.append("start")
    return commands


def renode_command(renode: str, monitor_port: int, script: Path | str) -> list[str]:
    """Headless Renode with its monitor on a TCP port, running ``script`` at start-up."""
    return [renode, "--disable-xwt", "--plain", "--port", str(monitor_port), str(script)]


# --- the monitor ---------------------------------------------------------------------------------

_IAC = 0xFF
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
_PROMPT = re.compile(rb"\(([A-Za-z0-9_.-]+)\) ?\Z")
_ERROR = re.compile(r"^(There was an error|Could not|No such command|Error:|Invalid|Parameters did not match)",
                    re.MULTILINE)


def strip_telnet(data: bytes) -> bytes:
    """Drop telnet negotiation (IAC WILL/WONT/DO/DONT x, IAC SB ... IAC SE) and colour codes."""
    out = bytearray()
    i = 0
    while i < len(data):
        byte = data[i]
        if byte != _IAC:
            out.append(byte)
            i += 1
            continue
        command = data[i + 1] if i + 1 < len(data) else None
        if command == 0xFA:  # SB ... IAC SE
            end = data.find(bytes((_IAC, 0xF0)), i + 2)
            i = len(data) if end < 0 else end + 2
        elif command in (0xFB, 0xFC, 0xFD, 0xFE):
            i += 3
        elif command == _IAC:
            out.append(_IAC)
            i += 2
        else:
            i += 2
    return _ANSI.sub(b"", bytes(out)).replace(b"\r", b"")


class MonitorError(TargetError):
    """A Renode monitor command failed or the monitor did not answer."""


class RenodeMonitor:
    """Line-based client for Renode's monitor port: one command, then its output up to the prompt."""

    def __init__(self, sock: socket.socket, *, timeout_s: float = 10.0, target: str = "renode"):
        self._sock = sock
        self.timeout_s = timeout_s
        self.target = target
        self._buffer = b""
        self.prompt = ""

    @classmethod
    def connect(cls, host: str, port: int, *, timeout_s: float = 10.0, target: str = "renode",
                alive=lambda: True) -> "RenodeMonitor":
        deadline = Deadline(timeout_s)
        while True:
            try:
                sock = socket.create_connection((host, port), timeout=max(0.05, deadline.remaining_s()))
                break
            except OSError as e:
                if deadline.expired() or not alive():
                    raise MonitorError(f"cannot reach the Renode monitor on {host}:{port}: {e}",
                                       target=target) from e
                time.sleep(0.05)
        monitor = cls(sock, timeout_s=timeout_s, target=target)
        try:
            monitor.read_until_prompt(deadline)
        except BaseException:
            monitor.close()
            raise
        return monitor

    def read_until_prompt(self, deadline: Deadline | None = None) -> str:
        deadline = deadline or Deadline(self.timeout_s)
        while True:
            text = strip_telnet(self._buffer)
            match = _PROMPT.search(text)
            if match:
                self._buffer = b""
                self.prompt = match.group(1).decode()
                return text[:match.start()].decode(errors="replace")
            if deadline.expired():
                raise MonitorError(f"no monitor prompt within {deadline.timeout_s:.1f} s; got "
                                   f"{text[-200:].decode(errors='replace')!r}", target=self.target)
            self._sock.settimeout(max(0.01, deadline.remaining_s()))
            try:
                chunk = self._sock.recv(65536)
            except socket.timeout:
                continue
            except OSError as e:
                raise MonitorError(f"Renode monitor connection failed: {e}", target=self.target) from e
            if not chunk:
                raise MonitorError("Renode closed the monitor connection", target=self.target)
            self._buffer += chunk

    def execute(self, command: str, timeout_s: float | None = None) -> str:
        """Run one command; return its output (without the echoed command). Raises on error text."""
        if "\n" in command:
            raise ConfigError("one monitor command per call")
        try:
            self._sock.sendall(command.encode() + b"\n")
        except OSError as e:
            raise MonitorError(f"Renode monitor connection failed: {e}", target=self.target) from e
        output = self.read_until_prompt(Deadline(self.timeout_s if timeout_s is None else timeout_s))
        lines = output.split("\n")
        if lines and lines[0].strip() == command.strip():
            lines = lines[1:]  # the monitor echoes the command
        output = "\n".join(lines).strip()
        if _ERROR.search(output):
            raise MonitorError(f"monitor command '{command}' failed: {output}", target=self.target)
        return output

    def quit(self) -> None:
        """``quit``: Renode exits, so no prompt follows."""
        try:
            self._sock.sendall(b"quit\n")
        except OSError:
            pass  # already gone

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()


# --- the target ----------------------------------------------------------------------------------

@register_target("renode")
class RenodeTarget(ProcessTarget):
    """Firmware in Renode (STM32F4 platform), linked over ``socket://127.0.0.1:PORT``."""

    def __init__(self, *, board: str | None = None, run_dir: str | os.PathLike | None = None,
                 boot_timeout_s: float = DEFAULT_BOOT_TIMEOUT_S, renode: str = RENODE,
                 uart: str | None = None, platform: str | None = None,
                 start_timeout_s: float = 60.0, stop_timeout_s: float = 10.0):
        super().__init__(board=board, run_dir=run_dir, boot_timeout_s=boot_timeout_s)
        if board is not None and board not in BOARDS and (uart is None or platform is None):
            raise ConfigError(f"renode has no mapping for board '{board}' (boards: {', '.join(sorted(BOARDS))}); "
                              f"pass uart= and platform=")
        if uart is not None and uart not in UART_NAMES:
            raise ConfigError(f"Renode's stm32f4 has no UART '{uart}'; its UARTs: {', '.join(UART_NAMES)}")
        self.renode = renode
        self.uart = uart
        self.platform = platform
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.command: list[str] = []
        self.monitor_commands: list[str] = []
        self.monitor: RenodeMonitor | None = None
        self._started = False

    def _board_setup(self) -> RenodeBoard:
        mapped = BOARDS.get(self.board or "netduinoplus2")
        return RenodeBoard(self.platform or (mapped.platform if mapped else DEFAULT_PLATFORM),
                           self.uart or (mapped.uart if mapped else "usart1"))

    def _start_process(self, image) -> str:
        if self._proc is not None:
            raise TargetError("already started; stop() it first", target=self.describe())
        elf = image_elf(image)
        image_board = getattr(image, "board", None)
        if self.board is None:
            self.board = image_board or "netduinoplus2"
        elif image_board is not None and image_board != self.board:
            raise ConfigError(f"image {elf} is built for board '{image_board}', target is '{self.board}'")
        executable = shutil.which(self.renode)
        if executable is None:
            raise RenodeMissingError(self.renode)
        setup = self._board_setup()
        run_dir = self.run_dir or (build_root() / "runs" /
                                   f"renode-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{next(_run_counter)}")
        run_dir.mkdir(parents=True, exist_ok=True)
        uart_port, monitor_port = free_port(), free_port()
        self.monitor_commands = monitor_commands(elf, uart_port, uart=setup.uart, platform=setup.platform)
        script = run_dir / "hil.resc"
        script.write_text("\n".join(self.monitor_commands) + "\n")
        self._log_path = run_dir / "renode.log"
        self.command = renode_command(executable, monitor_port, script)
        self._log_file = open(self._log_path, "wb")
        try:
            self._log_file.write(("$ " + " ".join(self.command) + "\n").encode())
            self._log_file.flush()
            self._proc = spawn(self.command, log_file=self._log_file)
            self.monitor = RenodeMonitor.connect("127.0.0.1", monitor_port, timeout_s=self.start_timeout_s,
                                                 target=self.describe(), alive=lambda: self.is_running)
            # the script has run once the prompt names the machine
            self.monitor.execute(f'mach set "{MACHINE_NAME}"')
            self._url = f"socket://127.0.0.1:{uart_port}"
            return self._url
        except BaseException:
            self.stop()
            raise

    def connect(self, timeout_s: float | None = None) -> DeviceClient:
        """Open the UART socket, then start (or reset and restart) the machine, then wait for BOOT."""
        if not self.is_running or self._url is None or self.monitor is None:
            raise TargetError("not running; call start(image) first", target=self.describe())
        if self._started:
            self.monitor.execute("pause")
            self.monitor.execute("machine Reset")
        client = DeviceClient.open(self._url, target=self.describe(), hint=self._hint())
        try:
            self.monitor.execute("start")
            self._started = True
            client.wait_boot(self.boot_timeout_s if timeout_s is None else timeout_s)
        except BaseException:
            client.close()
            raise
        self._clients.append(client)
        return client

    def reset_device(self, timeout_s: float | None = None) -> DeviceClient:
        """``pause``, ``machine Reset``, ``start`` on the monitor (connect() does it on a started
        machine) with a new client: the emulator and its UART socket stay up."""
        if self.monitor is None:
            raise TargetError("not running", target=self.describe())
        self.resets += 1
        self._close_clients()
        return self.connect(timeout_s)

    def reset(self) -> None:
        """``machine Reset`` on the monitor (the firmware boots again and sends BOOT)."""
        if self.monitor is None:
            raise TargetError("not running", target=self.describe())
        self.monitor.execute("machine Reset")

    def _stop_backend(self) -> None:
        monitor, self.monitor = self.monitor, None
        proc, self._proc = self._proc, None
        self._url = None
        self._started = False
        try:
            if monitor is not None:
                monitor.quit()
                monitor.close()
            if proc is not None:
                try:
                    proc.wait(timeout=min(self.stop_timeout_s, 5.0))  # a clean quit first
                except subprocess.TimeoutExpired:
                    pass  # still there: terminate() below
                terminate(proc, self.stop_timeout_s)
        finally:
            log_file, self._log_file = self._log_file, None
            if log_file is not None:
                log_file.close()
