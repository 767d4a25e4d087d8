"""The pyOCD path without a board: pyOCD's own session, CoreSight discovery, Cortex-M run control,
flash loader and reset drive QEMU's netduinoplus2 through harness.pyocd_qemu; then the harness
talks to the flashed firmware over the emulated board's serial port."""

from __future__ import annotations

import os
import signal
import time

import pytest

from harness.errors import BoardBusyError, FlashError, PortError, ProbeNotFoundError
from harness.firmware.build import build_firmware
from harness.pyocd_qemu import register
from harness.pyocd_qemu.board import QemuGdbBoard
from harness.targets import available_targets, create_target
from harness.process import live_pids
from harness.targets.pyocd_board import elf_load_segments

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def firmware():
    return build_firmware(board="netduinoplus2", engine="none")


@pytest.fixture
def emulated_board(tmp_path):
    with QemuGdbBoard(run_dir=tmp_path) as board:
        yield board
    assert board.pid not in live_pids()


def open_session(board):
    from pyocd.core.helpers import ConnectHelper
    register()
    session = ConnectHelper.session_with_chosen_probe(
        unique_id=board.probe_id, target_override="qemu_netduinoplus2", blocking=False,
        auto_open=False, options={"connect_mode": "halt", "hide_programming_progress": True})
    assert session is not None
    session.open()
    return session


def test_pyocd_discovers_a_cortex_m4_and_controls_it(emulated_board):
    from pyocd.core.target import Target
    session = open_session(emulated_board)
    try:
        target = session.target
        core = target.selected_core
        assert core.architecture.name == "ARMv7M" and core.has_fpu
        assert type(session.probe).__name__ == "QemuGdbProbe"
        assert target.get_state() == Target.State.HALTED
        # memory through the AHB-AP's accelerated interface -> gdbstub m/M
        target.write_memory_block32(0x20001000, [0x11223344, 0xA5A5A5A5])
        assert target.read_memory_block32(0x20001000, 2) == [0x11223344, 0xA5A5A5A5]
        target.write8(0x20001001, 0x99)
        assert target.read32(0x20001000) == 0x11229944
        # core registers through DCRSR/DCRDR -> gdbstub p/P, including an FPU single
        target.write_core_register("r5", 0xCAFEF00D)
        target.write_core_register("s3", 1.5)
        assert target.read_core_register("r5") == 0xCAFEF00D
        assert target.read_core_register("s3") == 1.5
        # a word of Thumb code in RAM: step executes one instruction (adds r0, #1 ; b .)
        target.write_memory_block8(0x20002000, [0x01, 0x30, 0xFE, 0xE7])
        target.write_core_register("pc", 0x20002000)
        target.write_core_register("r0", 41)
        target.write_core_register("xpsr", 1 << 24)
        target.step()
        assert target.read_core_register("r0") == 42 and target.read_core_register("pc") == 0x20002002
        target.resume()
        assert target.get_state() == Target.State.RUNNING
        # memory access while running is stop-the-world under QEMU, and leaves it running
        assert target.read32(0x20001004) == 0xA5A5A5A5
        assert target.get_state() == Target.State.RUNNING
        target.halt()
        assert target.get_state() == Target.State.HALTED
        assert target.read_core_register("pc") == 0x20002002  # spinning on "b ."
    finally:
        session.close()


def test_pyocd_flash_loader_programs_the_elf_and_reset_runs_it(emulated_board, firmware):
    from pyocd.core.target import Target
    from pyocd.flash.file_programmer import FileProgrammer
    from harness.link.client import DeviceClient
    session = open_session(emulated_board)
    try:
        target = session.target
        started = time.monotonic()
        FileProgrammer(session).program(str(firmware.elf), file_format="elf")
        flash_s = time.monotonic() - started
        for address, data in elf_load_segments(firmware.elf):
            assert bytes(target.read_memory_block8(address, len(data))) == data
        vector_sp, vector_reset = target.read_memory_block32(0x08000000, 2)
        # reset-and-halt: vector catch stops at the reset handler, as on silicon
        target.reset_and_halt()
        assert target.get_state() == Target.State.HALTED
        assert target.read_core_register("pc") == vector_reset & ~1
        assert target.read_core_register("sp") == vector_sp
        # open the serial port while halted, then run: BOOT is the first thing seen
        with DeviceClient.open(emulated_board.serial_url, target="pyocd:qemu") as client:
            target.resume()
            boot = client.wait_boot(5)
            assert boot.board == "netduinoplus2" and boot.build_id == firmware.build_id
            assert client.info().max_payload == boot.max_payload
            assert client.echo(bytes(range(256)) * 4) == bytes(range(256)) * 4
            # a plain reset (SYSRESETREQ) reboots the firmware, which says BOOT again
            target.reset()
            assert client.wait_boot(5).build_id == firmware.build_id
        print(f"\npyOCD FileProgrammer over QEMU gdbstub: {firmware.flash_bytes} B in {flash_s * 1000:.1f} ms")
    finally:
        session.close()


def test_pyocd_target_end_to_end(firmware, tmp_path):
    assert "pyocd" in available_targets()
    target = create_target("pyocd", probe="qemu", run_dir=tmp_path)
    with target:
        url = target.start(firmware)
        assert url.startswith("socket://127.0.0.1:")
        assert target.flash_s is not None and target.verify_s is not None
        assert target.flashed_bytes == sum(len(d) for _, d in elf_load_segments(firmware.elf))
        client = target.connect()
        assert client.boot_info.build_id == firmware.build_id
        assert client.echo(b"through pyOCD") == b"through pyOCD"
        again = target.reset_device()
        assert again.boot_info.build_id == firmware.build_id and again.info().board == "netduinoplus2"
        pid = target._emulator.pid
        print(f"\npyocd target: session {target.session_open_s * 1000:.0f} ms, flash {target.flash_s * 1000:.1f} ms, "
              f"verify {target.verify_s * 1000:.1f} ms for {target.flashed_bytes} B")
    assert not target.is_running and pid not in live_pids()


def test_inventory_entry_selects_the_emulated_board(firmware, tmp_path):
    inventory = tmp_path / "boards.toml"
    inventory.write_text('[boards.ci-qemu]\nprobe = "qemu"\ntarget = "qemu_netduinoplus2"\nport = "auto"\n'
                         'firmware_board = "netduinoplus2"\n')
    with create_target("pyocd", inventory_board="ci-qemu", inventory=inventory, run_dir=tmp_path) as target:
        target.start(firmware)
        assert target.connect().info().board == "netduinoplus2"
        assert target.describe() == "pyocd:ci-qemu"


def test_absent_probe_names_board_and_uid(firmware, tmp_path):
    target = create_target("pyocd", probe="0BADC0FFEE0000000000", target_type="cortex_m", port="loop://",
                           lock_dir=tmp_path)
    with pytest.raises(ProbeNotFoundError) as excinfo:
        target.start(firmware)
    message = str(excinfo.value)
    assert "0BADC0FFEE0000000000" in message and "pyocd list" in message
    assert excinfo.value.probe_uid == "0BADC0FFEE0000000000"
    assert not target.is_running


def test_busy_board_names_the_holder(firmware, tmp_path):
    from harness.boards.lock import BoardLock
    inventory = tmp_path / "boards.toml"
    inventory.write_text('[boards.n1]\nprobe = "0BADC0FFEE"\ntarget = "cortex_m"\nport = "loop://"\n'
                         'firmware_board = "netduinoplus2"\n')
    with BoardLock("n1", tmp_path):
        target = create_target("pyocd", inventory_board="n1", inventory=inventory, lock_dir=tmp_path,
                               lock_timeout_s=0.2)
        with pytest.raises(BoardBusyError, match=rf"n1.*pid {os.getpid()}"):
            target.start(firmware)


def test_unopenable_port_names_board_probe_and_port(firmware, tmp_path):
    from harness.pyocd_qemu.board import free_port
    dead_url = f"socket://127.0.0.1:{free_port()}"
    with create_target("pyocd", probe="qemu", port=dead_url, run_dir=tmp_path) as target:
        target.start(firmware)
        with pytest.raises(PortError) as excinfo:
            target.connect()
        error = excinfo.value
        assert error.port == dead_url and error.probe_uid.startswith("qemu:127.0.0.1:")
        assert dead_url in str(error) and "cannot be opened" in str(error)


def test_flash_outside_flash_is_a_flash_error(tmp_path):
    gcc_elf = tmp_path / "bad.elf"
    import subprocess
    (tmp_path / "bad.S").write_text(".section .text\n.word 0x12345678\n")
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-Wl,-Ttext=0x60000000",
                    "-Wl,-e,0", "-o", str(gcc_elf), str(tmp_path / "bad.S")], check=True, timeout=60)
    with create_target("pyocd", probe="qemu", run_dir=tmp_path) as target:
        with pytest.raises(FlashError) as excinfo:
            target.start(gcc_elf)
        assert "0x60000000" in str(excinfo.value) and "bad.elf" in str(excinfo.value)
    assert not target.is_running


def test_lost_probe_is_reported(firmware, tmp_path):
    with create_target("pyocd", probe="qemu", run_dir=tmp_path) as target:
        target.start(firmware)
        target.connect()
        os.kill(target._emulator.pid, signal.SIGKILL)  # the "USB cable" goes
        with pytest.raises(ProbeNotFoundError, match="probe lost") as excinfo:
            target.reset_device()
        assert excinfo.value.probe_uid.startswith("qemu:")
    assert not target.is_running


def test_remote_probe_server_path(emulated_board, firmware, tmp_path):
    """``remote:HOST:PORT``: pyOCD's own probe server (what `pyocd server` runs) shares the emulated
    board's probe over TCP, and the pyocd target flashes and runs through pyOCD's TCP client probe."""
    from pyocd.core.session import Session
    from pyocd.probe.tcp_probe_server import DebugProbeServer
    from harness.pyocd_qemu.board import free_port
    from harness.pyocd_qemu.probe import QemuGdbProbe
    register()
    port = free_port()
    server = DebugProbeServer(Session(None), QemuGdbProbe(emulated_board.probe_id.split(":", 1)[1]),
                              port=port, serve_local_only=True)
    server.start()
    try:
        with create_target("pyocd", probe=f"remote:127.0.0.1:{port}", target_type="qemu_netduinoplus2",
                           port=emulated_board.serial_url, lock_dir=tmp_path) as target:
            target.start(firmware)
            assert type(target.session.probe).__name__ == "TCPClientProbe"
            client = target.connect()
            assert client.boot_info.build_id == firmware.build_id
            assert client.echo(b"via pyocd server") == b"via pyocd server"
    finally:
        server.stop()


class Rfc2217Bridge:
    """pyserial's RFC 2217 server side (serial.rfc2217.PortManager, as in pyserial's
    rfc2217_server.py example) in front of a serial URL: a remote bench on loopback."""

    def __init__(self, serial_url: str):
        import socket
        import threading
        import serial
        self.serial = serial.serial_for_url(serial_url, timeout=0.05)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        import threading
        import serial
        import serial.rfc2217
        conn, _ = self.server.accept()

        class Connection:  # PortManager writes its negotiation through .write()
            write = conn.sendall

        manager = serial.rfc2217.PortManager(self.serial, Connection())

        def device_to_network():
            try:
                while not self.stopping.is_set():
                    data = self.serial.read(4096)
                    if data:
                        conn.sendall(b"".join(manager.escape(data)))
            except (serial.SerialException, OSError, TypeError):
                return  # the test is over: the board or the client went away

        self.pump = threading.Thread(target=device_to_network, daemon=True)
        self.pump.start()
        try:
            while not self.stopping.is_set():
                data = conn.recv(4096)
                if not data:
                    break
                self.serial.write(b"".join(manager.filter(data)))
        except (serial.SerialException, OSError):
            pass  # as above
        finally:
            conn.close()

    def close(self):
        self.stopping.set()
        self.server.close()
        pump = getattr(self, "pump", None)
        if pump is not None:
            pump.join(5)  # reads time out every 50 ms; stop it before closing its port
        self.thread.join(5)
        self.serial.close()


# pyserial 3.5's RFC 2217 client still calls Thread.setDaemon/setName
@pytest.mark.filterwarnings(r"ignore:set(Daemon|Name)\(\) is deprecated:DeprecationWarning")
def test_rfc2217_port(emulated_board, firmware, tmp_path):
    """``rfc2217://`` through the same URL path: pyserial's RFC 2217 client talks to its server
    side, which forwards to the emulated board's UART (what ser2net does on a lab machine)."""
    bridge = Rfc2217Bridge(emulated_board.serial_url)
    try:
        with create_target("pyocd", probe=emulated_board.probe_id, target_type="qemu_netduinoplus2",
                           port=f"rfc2217://127.0.0.1:{bridge.port}", baud=921600, lock_dir=tmp_path) as target:
            target.start(firmware)
            client = target.connect()
            assert type(client.transport._link).__module__ == "serial.rfc2217"
            assert client.boot_info.build_id == firmware.build_id
            assert client.echo(bytes(range(256))) == bytes(range(256))  # 0xFF is IAC: escaped both ways
            assert bridge.serial.baudrate == 921600  # the baud rate travelled over RFC 2217
    finally:
        bridge.close()


def test_every_reset_type_halts_at_the_reset_vector(emulated_board, firmware):
    """reset_and_halt through nRESET (probe), SYSRESETREQ and VECTRESET (AIRCR), emulated and default.
    Under QEMU, VECTRESET resets the whole machine like SYSRESETREQ (a real one resets the core only)."""
    from pyocd.core.target import Target
    from pyocd.flash.file_programmer import FileProgrammer
    session = open_session(emulated_board)
    try:
        target = session.target
        FileProgrammer(session).program(str(firmware.elf), file_format="elf")
        _, reset_vector = target.read_memory_block32(0x08000000, 2)
        for reset_type in (Target.ResetType.HARDWARE, Target.ResetType.SYSRESETREQ, Target.ResetType.VECTRESET,
                           Target.ResetType.EMULATED, Target.ResetType.DEFAULT):
            # each type starts from a clean, running machine: EMULATED resets core registers only,
            # and resuming the firmware from the state it leaves locks QEMU's core up (seen here:
            # "Lockup: can't escalate 3 to HardFault"), which says nothing about the next type
            target.reset(Target.ResetType.HARDWARE)
            target.reset_and_halt(reset_type)
            assert target.get_state() == Target.State.HALTED, reset_type
            assert target.read_core_register("pc") == reset_vector & ~1, reset_type
        target.reset(Target.ResetType.HARDWARE)
        assert target.get_state() == Target.State.RUNNING
    finally:
        session.close()
