"""Renode backend: the monitor commands (pure), the monitor client against a fake monitor, the
whole target lifecycle against a fake ``renode`` executable, and the real thing where installed."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import sys
import threading
from pathlib import Path

import pytest

from harness.errors import ConfigError, DeviceTimeoutError, LinkError, ToolMissingError
from harness.targets import available_targets, create_target
from harness.targets.base import live_pids
from harness.targets.renode import (MonitorError, RenodeMissingError, RenodeMonitor, monitor_commands,
                                    renode_command, strip_telnet)

REPO = Path(__file__).resolve().parents[2]
IAC_NEGOTIATION = bytes([0xFF, 0xFB, 0x01, 0xFF, 0xFB, 0x03, 0xFF, 0xFD, 0x22, 0xFF, 0xFA, 0x18, 0x01, 0xFF, 0xF0])


def test_monitor_command_sequence(tmp_path):
    elf = tmp_path / "fw.elf"
    assert monitor_commands(elf, 4321) == [
        'mach create "hil"',
        "machine LoadPlatformDescription @platforms/cpus/stm32f4.repl",
        f"sysbus LoadELF @{elf.resolve()}",
        'emulation CreateServerSocketTerminal 4321 "term" false',
        "connector Connect sysbus.usart1 term",
    ]
    nucleo = monitor_commands(elf, 5000, uart="usart2", start=True)
    assert nucleo[-2:] == ["connector Connect sysbus.usart2 term", "start"]
    assert monitor_commands(elf, 1, platform="@/opt/my.repl")[1] == "machine LoadPlatformDescription @/opt/my.repl"


@pytest.mark.parametrize("kwargs, words", [({"uart": "usart6"}, "no UART 'usart6'"), ({"uart_port": 0}, "bad UART port")])
def test_monitor_command_errors(tmp_path, kwargs, words):
    args = {"elf": tmp_path / "fw.elf", "uart_port": 4321, **kwargs}
    with pytest.raises(ConfigError, match=words):
        monitor_commands(**args)


def test_paths_renode_cannot_quote_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="spaces or quotes"):
        monitor_commands(tmp_path / "my firmware.elf", 4321)


def test_renode_command_line():
    assert renode_command("/opt/renode/renode", 1234, "/run/hil.resc") == [
        "/opt/renode/renode", "--disable-xwt", "--plain", "--port", "1234", "/run/hil.resc"]


def test_strip_telnet():
    assert strip_telnet(IAC_NEGOTIATION + b"\x1b[32mRenode\x1b[0m\r\n(monitor) ") == b"Renode\n(monitor) "
    assert strip_telnet(b"a\xff\xffb") == b"a\xffb"


def test_registered_and_options():
    assert "renode" in available_targets()
    with pytest.raises(ConfigError, match="no UART"):
        create_target("renode", uart="usart9")
    with pytest.raises(ConfigError, match="no mapping for board"):
        create_target("renode", board="mps2-an386")


class FakeMonitor:
    """Renode's monitor as seen over its port: negotiation, banner, echo, output, prompt."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received: list[str] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.server.accept()
        with conn:
            conn.sendall(IAC_NEGOTIATION + b"Renode, version 1.15\r\n\x1b[1m(monitor) \x1b[0m")
            prompt = "monitor"
            buffer = b""
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                buffer += data
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    command = line.decode().strip()
                    self.received.append(command)
                    if command == "quit":
                        return
                    output = ""
                    if command.startswith("mach create"):
                        prompt = command.split('"')[1]
                    elif command == "version":
                        output = "Renode, version 1.15.0\r\n"
                    elif command == "bogus":
                        output = "There was an error executing command 'bogus'\r\nNo such command or device: bogus\r\n"
                    conn.sendall(command.encode() + b"\r\n" + output.encode() + f"({prompt}) ".encode())

    def close(self):
        self.server.close()


def test_monitor_client_against_fake():
    fake = FakeMonitor()
    try:
        monitor = RenodeMonitor.connect("127.0.0.1", fake.port, timeout_s=5)
        assert monitor.prompt == "monitor"
        assert monitor.execute('mach create "hil"') == ""
        assert monitor.prompt == "hil"
        assert monitor.execute("version") == "Renode, version 1.15.0"
        with pytest.raises(MonitorError, match="monitor command 'bogus' failed: There was an error"):
            monitor.execute("bogus")
        monitor.quit()
        monitor.close()
        fake.thread.join(5)
        assert fake.received == ['mach create "hil"', "version", "bogus", "quit"]
    finally:
        fake.close()


FAKE_RENODE = r'''
import socket, sys, threading, time
sys.path.insert(0, sys.argv[1])
from fake_device import firmware_like, info_payload
from harness.link.frame import SEQ_UNKNOWN, Frame, FrameReader, encode_frame
from harness.link.protocol import MsgType
args = sys.argv[2:]
port = int(args[args.index("--port") + 1])
script = open(args[-1]).read().splitlines()
log = open(args[-1] + ".seen", "w")
uart_port = int(next(l for l in script if "CreateServerSocketTerminal" in l).split()[2])
uart_server = socket.create_server(("127.0.0.1", uart_port))
uart = {"accepted": [], "booted": 0}
def accept_uart():  # every client connection in turn (one per connect / reset_device)
    while True:
        uart["accepted"].append(uart_server.accept()[0])
threading.Thread(target=accept_uart, daemon=True).start()
def boot():  # on the newest connection nobody has seen BOOT on yet
    while len(uart["accepted"]) <= uart["booted"]:
        time.sleep(0.01)
    conn = uart["accepted"][-1]
    uart["booted"] = len(uart["accepted"])
    conn.sendall(encode_frame(Frame(MsgType.BOOT, SEQ_UNKNOWN, info_payload())))
    reader = FrameReader(4096)
    def serve():
        while True:
            try:
                data = conn.recv(4096)
            except OSError:
                return
            if not data:
                return
            for frame in reader.feed(data):
                for wire in firmware_like(frame):
                    conn.sendall(wire)
    threading.Thread(target=serve, daemon=True).start()
monitor_server = socket.create_server(("127.0.0.1", port))
conn, _ = monitor_server.accept()
conn.sendall(b"\xff\xfb\x01(hil) ")
buffer = b""
while True:
    data = conn.recv(4096)
    if not data:
        break
    buffer += data
    while b"\n" in buffer:
        line, buffer = buffer.split(b"\n", 1)
        command = line.decode().strip()
        log.write(command + "\n"); log.flush()
        if command == "quit":
            sys.exit(0)
        if command == "start":
            boot()
        conn.sendall(command.encode() + b"\r\n(hil) ")
'''


@pytest.fixture
def fake_renode(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "renode"
    (bin_dir / "fake_renode.py").write_text(FAKE_RENODE)
    exe.write_text(f"#!/bin/sh\nexec {sys.executable} {bin_dir / 'fake_renode.py'} {REPO / 'tests' / 'link'} \"$@\"\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    return exe


def test_target_lifecycle_against_fake_renode(fake_renode, idle_elf, tmp_path):
    run_dir = tmp_path / "run"
    target = create_target("renode", run_dir=run_dir, boot_timeout_s=5)
    with target:
        url = target.start(idle_elf)
        assert url.startswith("socket://127.0.0.1:") and target.is_running
        script = (run_dir / "hil.resc").read_text().splitlines()
        assert script == target.monitor_commands and "start" not in script
        assert target.command[1:5] == ["--disable-xwt", "--plain", "--port", target.command[4]]
        client = target.connect()
        assert client.boot_info.board == "fakeboard"
        assert client.echo(b"renode") == b"renode"
        pid = target.pid
        assert pid in live_pids()
    assert not target.is_running and pid not in live_pids()
    seen = (run_dir / "hil.resc.seen").read_text().splitlines()
    assert seen == ['mach set "hil"', "start", "quit"]


def test_reset_device_against_fake_renode(fake_renode, idle_elf, tmp_path):
    """A hung device on Renode: pause, machine Reset, start on the monitor, a new client that has
    seen BOOT; the emulator (its pid) stays."""
    run_dir = tmp_path / "run"
    with create_target("renode", run_dir=run_dir, boot_timeout_s=5) as target:
        target.start(idle_elf)
        first = target.connect()
        pid = target.pid
        second = target.reset_device()
        assert second is not first and second.boot_info.board == "fakeboard"
        assert second.echo(b"after reset") == b"after reset"
        assert target.resets == 1 and target.pid == pid
        with pytest.raises(LinkError):
            first.echo(b"closed")
    seen = (run_dir / "hil.resc.seen").read_text().splitlines()
    assert seen == ['mach set "hil"', "start", "pause", "machine Reset", "start", "quit"]


def test_missing_renode_says_where_to_get_it(idle_elf, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RenodeMissingError) as excinfo:
        create_target("renode", run_dir=tmp_path).start(idle_elf)
    assert isinstance(excinfo.value, ToolMissingError)
    assert "linux-portable" in str(excinfo.value) and "apt-get" not in str(excinfo.value)


@pytest.mark.skipif(shutil.which("renode") is None,
                    reason="renode is not on PATH (not packaged for Debian; see docs/real-boards.md)")
def test_real_renode_runs_the_firmware(tmp_path):
    from harness.firmware.build import build_firmware
    image = build_firmware(board="netduinoplus2", engine="none")
    with create_target("renode", run_dir=tmp_path) as target:
        target.start(image)
        client = target.connect()
        assert client.boot_info.board == "netduinoplus2"
        assert client.info().build_id == image.build_id
        assert client.echo(b"renode" * 50) == b"renode" * 50
        again = target.connect()  # pause, machine Reset, start: a fresh BOOT
        assert again.boot_info.build_id == image.build_id
        again.arm_fault(1)  # FaultMode.HANG on the next request
        with pytest.raises(DeviceTimeoutError):
            again.echo(b"hang", timeout_s=1.0)
        recovered = target.reset_device()
        assert recovered.echo(b"back") == b"back" and target.resets == 1
