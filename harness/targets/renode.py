"""Renode backend: the firmware on a Renode platform, the link on a server socket terminal.

    renode --disable-xwt --plain --port MONITOR_PORT RUN_DIR/hil.resc

``hil.resc`` (see :func:`monitor_commands`)::

    mach create "hil"
    machine LoadPlatformDescription @RUN_DIR/hil.repl      # see platform_description()
    sysbus LoadELF @/abs/path/firmware.elf
    macro reset  (a triple-quoted body: sysbus LoadELF @/abs/path/firmware.elf)
    emulation CreateServerSocketTerminal UART_PORT "term" false
    connector Connect sysbus.usart1 term
    logLevel 3 sysbus.usart1

- ``false``: no telnet negotiation on the UART socket (it would corrupt the binary protocol).
- The machine is *not* started by the script: ``connect()`` opens ``socket://127.0.0.1:UART_PORT``
  first, then sends ``start`` on the monitor, so the BOOT frame is never lost. Later connects
  ``pause`` and ``machine Reset`` first, so each connect sees a fresh boot.
- The monitor (``--port``): :mod:`harness.targets.renode_monitor` (the telnet handshake Renode
  needs before it says anything). Renode runs ``hil.resc`` on our monitor connection once the
  handshake is done; the start waits for its prompt, ``(hil)``. ``stop()`` sends ``quit``, then
  stops the whole process group (the ``renode`` launcher script and the ``mono`` it starts).
- Boards: :data:`BOARDS` maps a firmware board folder to a platform and the UART of its link
  (netduinoplus2: stm32f4 usart1; nucleo_f446re: stm32f4 usart2; nrf52840: Renode's nrf52840
  with the board's own ``renode.repl`` on top, uart0 = UARTE0).
- The executable: ``$HIL_RENODE`` if set (a path or a name on PATH), else ``renode`` on PATH.

TIMING (measured, docs/real-boards.md): ECHO from the host ran at ~1 kB/s, and a 2 KiB frame
took ~2 s against ~40 ms for 512 B scaled up. Renode's STM32_UART, on every byte it receives
while it knows a baud rate (firmware's BRR and the model's clock), schedules a one-shot
idle-line clock entry and cancels the previous one, which stays in the clock source until it
fires; a frame's bytes all arrive at one synchronisation point, so a frame of n bytes costs
O(n^2). With ``frequency: 0`` on the link USART the model has no baud rate and schedules
nothing (the firmware does not use IDLE); the per-byte warning that then follows is silenced
with ``logLevel 3``. The quantum (``emulation SetGlobalQuantum``) and
``SetGlobalAdvanceImmediately`` were measured too and made it slower, not faster; the
``SynchronizedTimers`` mode lost bytes. :data:`PERFORMANCE_COMMANDS` is empty by default.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from harness.deadline import Deadline
from harness.errors import ConfigError, DeviceTimeoutError, TargetError, ToolMissingError
from harness.link.client import DeviceClient
from harness.paths import FIRMWARE_DIR
from harness.targets import register_target
from harness.process import free_port
from harness.targets.base import DEFAULT_BOOT_TIMEOUT_S, ProcessTarget
# the monitor's names, as this backend's own (tests import them from here too)
from harness.targets.renode_monitor import MonitorError, RenodeMonitor, parse_monitor_integer, parse_virtual_time

RENODE = "renode"
RENODE_ENV = "HIL_RENODE"
RENODE_INSTALL_HINT = ("Renode is not packaged for Debian: install its release package (renode_1.15.x_amd64.deb "
                       "or the linux-portable tarball from https://github.com/renode/renode/releases) and put "
                       f"`renode` on PATH or name it in ${RENODE_ENV}")
STM32F4_PLATFORM = "platforms/cpus/stm32f4.repl"
NRF52840_PLATFORM = "platforms/cpus/nrf52840.repl"
DEFAULT_PLATFORM = STM32F4_PLATFORM
MACHINE_NAME = "hil"
TERMINAL_NAME = "term"
# the UARTs each platform names (a board's link must be one of them)
PLATFORM_UARTS = {
    STM32F4_PLATFORM: ("usart1", "usart2", "usart3", "uart4", "uart5"),
    NRF52840_PLATFORM: ("uart0", "uart1"),
}
UART_NAMES = PLATFORM_UARTS[STM32F4_PLATFORM]
# Extra monitor commands after the set-up (e.g. 'emulation SetGlobalQuantum "0.0001"'): none
# by default, as none measured made the link faster (TIMING above).
PERFORMANCE_COMMANDS: tuple[str, ...] = ()


@dataclass(frozen=True)
class RenodeBoard:
    platform: str
    uart: str
    overlay: str | None = None   # a .repl under firmware/boards/<board>/ loaded after the platform


# firmware board folder -> where it runs on Renode
BOARDS = {
    "netduinoplus2": RenodeBoard(STM32F4_PLATFORM, "usart1"),
    "nucleo_f446re": RenodeBoard(STM32F4_PLATFORM, "usart2"),
    "nrf52840": RenodeBoard(NRF52840_PLATFORM, "uart0", "renode.repl"),
}


class RenodeMissingError(ToolMissingError):
    """``renode`` is not found (it is not a Debian package, so the usual hint does not apply)."""

    def __init__(self, tool: str = RENODE):
        self.tool = tool
        self.package = ""
        Exception.__init__(self, f"{tool} not found; {RENODE_INSTALL_HINT}")


def renode_executable(name: str | None = None, environ=os.environ) -> str:
    """The Renode to run: ``name``, else ``$HIL_RENODE``, else ``renode``, found on PATH (or a
    path). Raises RenodeMissingError naming what was looked for."""
    wanted = name or environ.get(RENODE_ENV) or RENODE
    found = shutil.which(wanted)
    if found is None:
        raise RenodeMissingError(wanted)
    return found


def _renode_path(path: Path | str) -> str:
    text = str(path)
    if re.search(r"[\s\"']", text):
        raise ConfigError(f"Renode's @path syntax cannot take '{text}' (spaces or quotes); "
                          f"build or copy the firmware to a plain path")
    return "@" + text


def _platform_argument(platform: str) -> str:
    return platform if platform.startswith("@") else _renode_path(platform)


def _check_uart(uart: str, platform: str) -> None:
    names = PLATFORM_UARTS.get(platform.lstrip("@"))
    if names is not None and uart not in names:
        short = Path(platform.lstrip("@")).stem
        raise ConfigError(f"Renode's {short} has no UART '{uart}'; its UARTs: {', '.join(names)}")


def platform_description(platform: str, uart: str, overlay: Path | str | None = None) -> str:
    """The run's ``hil.repl``: Renode's ``platform``, the board's ``overlay`` on top, and, on an
    STM32 USART link, ``frequency: 0`` for that USART (see TIMING: without a clock Renode's
    STM32_UART knows no baud rate and arms no idle-line timer per received byte)."""
    lines = ["// written by harness/targets/renode.py for one run",
             f'using "{platform.lstrip("@")}"']
    if overlay is not None:
        lines.append(f'using "{Path(overlay).resolve()}"')
    if platform.lstrip("@") == STM32F4_PLATFORM:
        lines += ["",
                  "// no clock, so no baud rate: Renode's STM32_UART then schedules no idle-line event per",
                  "// received byte (they pile up in the clock source: a 2 KiB frame cost 2 s, not 40 ms)",
                  f"{uart}:",
                  "    frequency: 0"]
    return "\n".join(lines) + "\n"


def link_uart_commands(uart: str, platform: str) -> list[str]:
    """Monitor commands for the link UART: an STM32_UART without a baud rate warns on every byte
    it receives; only its errors are logged."""
    if platform.lstrip("@") == STM32F4_PLATFORM:
        return [f"logLevel 3 sysbus.{uart}"]
    return []


def monitor_commands(elf: Path | str, uart_port: int, *, uart: str = "usart1",
                     platform: str = DEFAULT_PLATFORM, description: Path | str | None = None,
                     machine: str = MACHINE_NAME, performance: tuple[str, ...] = (),
                     start: bool = False) -> list[str]:
    """The monitor commands that build the machine from ``description`` (a .repl; default
    ``platform`` itself), load ``elf`` and put ``uart`` on a socket."""
    _check_uart(uart, platform)
    if not 0 < uart_port < 65536:
        raise ConfigError(f"bad UART port {uart_port}")
    repl = _renode_path(Path(description).resolve()) if description is not None else _platform_argument(platform)
    load = f"sysbus LoadELF {_renode_path(Path(elf).resolve())}"
    commands = [f'mach create "{machine}"',
                f"machine LoadPlatformDescription {repl}",
                load,
                # what `machine Reset` (and the firmware's SYSRESETREQ) runs: without it the core
                # restarts from a vector table at 0, where the STM32F4 platform maps nothing
                "macro reset", '"""', f"    {load}", '"""',
                # false: a raw socket, no telnet negotiation bytes in the binary link
                f'emulation CreateServerSocketTerminal {uart_port} "{TERMINAL_NAME}" false',
                f"connector Connect sysbus.{uart} {TERMINAL_NAME}",
                *(link_uart_commands(uart, platform) if description is not None else []),
                *performance]
    if start:
        commands.append("start")
    return commands


def renode_command(renode: str, monitor_port: int, script: Path | str) -> list[str]:
    """Headless Renode with its monitor on a TCP port, running ``script`` at start-up."""
    return [renode, "--disable-xwt", "--plain", "--port", str(monitor_port), str(script)]


@register_target("renode")
class RenodeTarget(ProcessTarget):
    """Firmware in Renode, linked over ``socket://127.0.0.1:PORT``. Each connect() reboots the
    machine (``pause``, ``machine Reset``; then ``start`` once the link is open)."""

    connect_reboots = True

    def __init__(self, *, board: str | None = None, run_dir: str | os.PathLike | None = None,
                 boot_timeout_s: float = DEFAULT_BOOT_TIMEOUT_S, renode: str | None = None,
                 uart: str | None = None, platform: str | None = None,
                 performance: tuple[str, ...] = PERFORMANCE_COMMANDS,
                 start_timeout_s: float = 60.0, stop_timeout_s: float = 10.0):
        self.uart = uart            # before the base's board check, which reads them
        self.platform = platform
        super().__init__(board=board, run_dir=run_dir, boot_timeout_s=boot_timeout_s,
                         start_timeout_s=start_timeout_s, stop_timeout_s=stop_timeout_s)
        if uart is not None:
            _check_uart(uart, platform or (BOARDS[board].platform if board in BOARDS else DEFAULT_PLATFORM))
        self.renode = renode
        self.performance = tuple(performance)
        self.monitor_commands: list[str] = []
        self.monitor: RenodeMonitor | None = None
        self.script_output = ""
        self._script_path: Path | None = None
        self._monitor_port: int | None = None
        self._uart_port: int | None = None
        self._started = False

    def _board_setup(self) -> RenodeBoard:
        mapped = BOARDS.get(self.board or "netduinoplus2")
        overlay = mapped.overlay if mapped is not None and self.platform is None else None
        return RenodeBoard(self.platform or (mapped.platform if mapped else DEFAULT_PLATFORM),
                           self.uart or (mapped.uart if mapped else "usart1"), overlay)

    # --- the start's hooks -----------------------------------------------------------------------

    def _check_board(self, board: str) -> None:
        if board not in BOARDS and (self.uart is None or self.platform is None):
            raise ConfigError(f"renode has no mapping for board '{board}' (boards: {', '.join(sorted(BOARDS))}); "
                              f"pass uart= and platform=")

    def _executable(self) -> str:
        return renode_executable(self.renode)

    def _command(self, executable: str, elf: Path, run_dir: Path) -> list[str]:
        """The run's ``hil.repl`` and ``hil.resc`` in ``run_dir``; Renode to run the script."""
        setup = self._board_setup()
        overlay = FIRMWARE_DIR / "boards" / self.board / setup.overlay if setup.overlay else None
        if overlay is not None and not overlay.is_file():
            raise ConfigError(f"board '{self.board}' names a Renode platform overlay {overlay}, which does not exist")
        self._uart_port, self._monitor_port = free_port(), free_port()
        description = None
        if self.platform is None:   # a platform the caller names is taken as it is
            description = run_dir / "hil.repl"
            description.write_text(platform_description(setup.platform, setup.uart, overlay))
        self.monitor_commands = monitor_commands(elf, self._uart_port, uart=setup.uart, platform=setup.platform,
                                                 description=description, performance=self.performance)
        script = self._script_path = run_dir / "hil.resc"
        script.write_text("\n".join(self.monitor_commands) + "\n")
        return renode_command(executable, self._monitor_port, script)

    def _wait_ready(self) -> str:
        """The monitor answers and has run ``hil.resc``; a monitor failure names Renode's log."""
        try:
            self.monitor = RenodeMonitor.connect("127.0.0.1", self._monitor_port, timeout_s=self.start_timeout_s,
                                                 target=self.describe(), alive=lambda: self.is_running)
            self.script_output = self._wait_for_script()
        except MonitorError as e:
            raise MonitorError(f"{e}; Renode's log: {self._log_path}", target=self.describe()) from e
        return f"socket://127.0.0.1:{self._uart_port}"

    def _wait_for_script(self) -> str:
        """Renode runs ``hil.resc`` on the monitor connection once the handshake is done (its
        output, ``i $CWD/hil.resc`` and what each command printed, comes to us); it has run once
        the prompt names the machine. An error in it fails the start, with its output."""
        monitor = self._require_monitor()
        deadline = Deadline(self.start_timeout_s)
        output = monitor.banner
        while monitor.prompt != MACHINE_NAME:
            output += monitor.read_until_prompt(deadline)
        if _SCRIPT_ERROR.search(output):
            raise MonitorError(f"Renode's start-up script {self._script_path} failed: "
                               f"{output.strip()[-600:]}", target=self.describe())
        return output

    # --- the connect's hooks: open the UART socket, then start (or reset and restart) --------------

    def _before_link(self) -> None:
        monitor = self._require_monitor()
        if self._started:
            # Renode's terminal serves one connection at a time: the old link goes first, or
            # the new BOOT would be written to it
            self._close_clients()
            monitor.execute("pause")
            monitor.execute("machine Reset")

    def _let_run(self, client: DeviceClient) -> None:
        self._require_monitor().execute("start")
        self._started = True

    def _wait_boot(self, client: DeviceClient, timeout_s: float) -> None:
        """BOOT within ``timeout_s`` of the *device's* time: host seconds run out only once
        Renode's virtual clock has passed ``timeout_s`` since start too (a loaded host slows the
        emulation; that is not the device being late). Host time is capped at 10 x the timeout."""
        virtual_start_s = self.virtual_time_s()
        host_cap = Deadline(10 * timeout_s)
        slice_s = max(0.05, timeout_s)
        while True:
            try:
                client.wait_boot(min(slice_s, max(0.01, host_cap.remaining_s())))
                return
            except DeviceTimeoutError:
                virtual_elapsed_s = self.virtual_time_s() - virtual_start_s
                if virtual_elapsed_s >= timeout_s or host_cap.expired():
                    raise DeviceTimeoutError(
                        f"no BOOT from the device after {virtual_elapsed_s:.2f} s of Renode's virtual time "
                        f"(limit {timeout_s:.1f} s); Renode's log: {self._log_path}",
                        target=self.describe()) from None

    # --- what the monitor can tell ---------------------------------------------------------------

    def _require_monitor(self) -> RenodeMonitor:
        if self.monitor is None:
            raise TargetError("not running", target=self.describe())
        return self.monitor

    def executed_instructions(self) -> int:
        """Instructions the CPU has executed since the machine was created (``sysbus.cpu
        ExecutedInstructions``): Renode's counterpart of QEMU's ``-icount``."""
        output = self._require_monitor().execute("sysbus.cpu ExecutedInstructions")
        return parse_monitor_integer(output, "sysbus.cpu ExecutedInstructions")

    def virtual_time_s(self) -> float:
        """Seconds of virtual time the machine has run (``machine ElapsedVirtualTime``)."""
        output = self._require_monitor().execute("machine ElapsedVirtualTime")
        return parse_virtual_time(output)

    # --- stop ------------------------------------------------------------------------------------

    def _shutdown(self) -> None:
        """``quit`` on the monitor, and a moment for Renode to exit by itself (the base then stops
        the whole group: the launcher and mono)."""
        monitor, self.monitor = self.monitor, None
        self._started = False
        if monitor is not None:
            monitor.quit()
            monitor.close()
            if self._child is not None:
                self._child.wait_exit(min(self.stop_timeout_s, 5.0))


_SCRIPT_ERROR = re.compile(r"^(There was an error|Could not|No such command|Error|Invalid|Parameters did not match)",
                           re.MULTILINE)
