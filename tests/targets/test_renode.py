"""Renode backend: the monitor commands and platform descriptions (pure), the monitor client
against the recorded conversation of a real Renode (tests/data/renode/, replayed by
tests/targets/renode_fake.py), the whole target lifecycle against a fake ``renode`` that answers
with the recorded replies, and the real thing where Renode is provided ($HIL_RENODE or PATH)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import time

import pytest

from harness.deadline import Deadline
from harness.errors import ConfigError, DeviceTimeoutError, LinkError, ToolMissingError
from harness.targets import available_targets, create_target
from harness.process import live_pids
from harness.targets.renode import (NRF52840_PLATFORM, RENODE_ENV, STM32F4_PLATFORM, RenodeMissingError,
                                    monitor_commands, platform_description, renode_command, renode_executable)
from harness.targets.renode_monitor import (NEGOTIATION_ANSWER, RENODE_NEGOTIATION, MonitorError, RenodeMonitor,
                                            negotiation_answer, parse_monitor_integer, parse_virtual_time,
                                            strip_telnet)
from tests.targets.renode_fake import CONVERSATION, ReplayMonitor, install_fake_renode, load_chunks

REAL_RENODE = shutil.which(os.environ.get(RENODE_ENV) or "renode")
needs_renode = pytest.mark.skipif(REAL_RENODE is None, reason=f"Renode is not provided: set ${RENODE_ENV} or put "
                                  "`renode` on PATH (not packaged for Debian; see docs/real-boards.md)")


# --- pure: commands, descriptions, parsing ---------------------------------------------------------

def test_monitor_command_sequence(tmp_path):
    elf, repl = tmp_path / "fw.elf", tmp_path / "hil.repl"
    load = f"sysbus LoadELF @{elf.resolve()}"
    assert monitor_commands(elf, 4321, description=repl) == [
        'mach create "hil"',
        f"machine LoadPlatformDescription @{repl.resolve()}",
        load,
        "macro reset", '"""', f"    {load}", '"""',
        'emulation CreateServerSocketTerminal 4321 "term" false',
        "connector Connect sysbus.usart1 term",
        "logLevel 3 sysbus.usart1",
    ]
    nucleo = monitor_commands(elf, 5000, uart="usart2", start=True)
    assert nucleo[-2:] == ["connector Connect sysbus.usart2 term", "start"]
    assert monitor_commands(elf, 1, platform="@/opt/my.repl")[1] == "machine LoadPlatformDescription @/opt/my.repl"
    nrf = monitor_commands(elf, 6000, uart="uart0", platform=NRF52840_PLATFORM, description=repl,
                           performance=('emulation SetGlobalQuantum "0.0001"',))
    assert nrf[-2:] == ["connector Connect sysbus.uart0 term", 'emulation SetGlobalQuantum "0.0001"']


@pytest.mark.parametrize("kwargs, words", [
    ({"uart": "usart6"}, "Renode's stm32f4 has no UART 'usart6'"),
    ({"uart": "usart1", "platform": NRF52840_PLATFORM}, "Renode's nrf52840 has no UART 'usart1'; its UARTs: uart0, uart1"),
    ({"uart_port": 0}, "bad UART port"),
])
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


def test_platform_descriptions(tmp_path):
    stm32 = platform_description(STM32F4_PLATFORM, "usart2")
    assert 'using "platforms/cpus/stm32f4.repl"' in stm32
    assert stm32.rstrip().endswith("usart2:\n    frequency: 0")   # no baud rate: no idle-line timer per byte
    overlay = tmp_path / "renode.repl"
    nrf = platform_description(NRF52840_PLATFORM, "uart0", overlay)
    assert nrf.splitlines()[1:] == ['using "platforms/cpus/nrf52840.repl"', f'using "{overlay.resolve()}"']


def test_parsing_what_renode_printed():
    replies = _recorded_replies()
    assert parse_monitor_integer(strip_telnet(replies["sysbus.cpu ExecutedInstructions"]).decode(), "x") == 0x21EB
    assert parse_virtual_time(strip_telnet(replies["machine ElapsedVirtualTime"]).decode()) == 0.0
    assert parse_virtual_time("[Domain = Elapsed Virtual Time: 00:01:02.500000000\r\nElapsed Host") == 62.5
    assert parse_monitor_integer("0x00000000000021EB\n", "x") == 0x21EB


def test_strip_telnet_on_the_recording():
    chunks = load_chunks()
    assert chunks[0] == ("recv", RENODE_NEGOTIATION)        # all Renode says on connect
    assert strip_telnet(chunks[0][1]) == b""
    assert strip_telnet(b"a\xff\xffb\x1b[32mc\x1b[0m\r\n") == b"a\xffbc\n"


def test_negotiation_answer_is_what_renode_swallows():
    chunks = load_chunks()
    assert negotiation_answer(chunks[0][1]) == NEGOTIATION_ANSWER == chunks[1][1]
    assert chunks[1] == ("send", NEGOTIATION_ANSWER) and len(NEGOTIATION_ANSWER) == 9


def test_the_recording_says_where_it_came_from():
    meta = json.loads(CONVERSATION.read_text())
    assert meta["renode"].startswith("Renode, version 1.15.")
    assert "renode_record.py" in meta["about"]


def test_registered_and_options():
    assert "renode" in available_targets()
    with pytest.raises(ConfigError, match="no UART"):
        create_target("renode", uart="usart9")
    with pytest.raises(ConfigError, match="no mapping for board"):
        create_target("renode", board="mps2-an386")
    create_target("renode", board="nrf52840")   # Renode-only board: mapped


def _recorded_replies() -> dict[str, bytes]:
    from tests.targets.renode_fake import recorded_replies
    return recorded_replies(load_chunks())[2]


# --- the monitor client against the real conversation ----------------------------------------------

def test_monitor_client_replays_the_real_conversation():
    """RenodeMonitor, driven as the target drives it, sends byte for byte what it sent to the real
    Renode, and reads the replies the real Renode gave."""
    chunks = load_chunks()
    replay = ReplayMonitor(chunks)
    try:
        monitor = RenodeMonitor.connect("127.0.0.1", replay.port, timeout_s=10)
        output = monitor.banner
        while monitor.prompt != "hil":             # hil.resc runs on this connection
            output += monitor.read_until_prompt(Deadline(10))
        assert "Renode, version 1.15" in output and "i @" in output and "hil.resc" in output
        results = {}
        for direction, data in chunks:
            if direction != "send" or data in (NEGOTIATION_ANSWER, b"quit\n"):
                continue
            command = data.decode().rstrip("\n")
            try:
                results.setdefault(command, []).append(monitor.execute(command))
            except MonitorError as e:
                results.setdefault(command, []).append(e)
        monitor.quit()
        monitor.close()
        replay.thread.join(5)
        assert replay.mismatch is None, replay.mismatch
        assert results["start"] == ["Starting emulation...", "Starting emulation..."]
        assert results["pause"] == ["Pausing emulation..."]
        assert results["version"][0].startswith("Renode, version 1.15.3")
        assert parse_monitor_integer(results["sysbus.cpu ExecutedInstructions"][0], "x") == 0x21EB
        assert [parse_virtual_time(text) for text in results["machine ElapsedVirtualTime"]] == [0.0, 0.3745, 1.6805]
        assert isinstance(results["bogus"][0], MonitorError)
        assert "No such command or device: bogus" in str(results["bogus"][0])
        assert replay.received.endswith(b"quit\n")
    finally:
        replay.close()


def test_a_command_sent_before_the_answer_is_swallowed(fake_renode, tmp_path):
    """As the real Renode 1.15.3 does (seen here: after `help\\nquit\\nversion\\n` it printed
    the banner, an empty prompt and the version): the first 9 bytes a client sends are taken as
    its negotiation answer, whatever they are."""
    import subprocess
    script = tmp_path / "hil.resc"
    script.write_text(f'emulation CreateServerSocketTerminal {_free_port()} "term" false\n')
    port = _free_port()
    proc = subprocess.Popen([os.environ[RENODE_ENV], "--disable-xwt", "--plain", "--port", str(port), str(script)])
    try:
        sock = _connect(port)
        assert _read_exactly(sock, len(RENODE_NEGOTIATION)) == RENODE_NEGOTIATION
        sock.sendall(b"help\nquit\nversion\n")
        reply = strip_telnet(_read_until(sock, b"Renode, version 1.15.3"))
        assert b"Renode, version 1.15.3" in reply
        sock.sendall(b"quit\n")
        assert proc.wait(timeout=10) == 0
        assert (tmp_path / "hil.resc.seen").read_text().splitlines() == ["", "version", "quit"]
    finally:
        proc.kill()
        proc.wait(timeout=10)


# --- the target against the fake renode --------------------------------------------------------------

@pytest.fixture
def fake_renode(tmp_path, monkeypatch):
    return install_fake_renode(tmp_path / "bin", monkeypatch)


def test_target_lifecycle_against_fake_renode(fake_renode, idle_elf, tmp_path):
    run_dir = tmp_path / "run"
    target = create_target("renode", run_dir=run_dir, boot_timeout_s=5)
    with target:
        url = target.start(idle_elf)
        assert url.startswith("socket://127.0.0.1:") and target.is_running
        script = (run_dir / "hil.resc").read_text().splitlines()
        assert script == target.monitor_commands and "start" not in script
        assert "frequency: 0" in (run_dir / "hil.repl").read_text()
        assert target.command[0] == os.environ[RENODE_ENV]
        assert target.command[1:5] == ["--disable-xwt", "--plain", "--port", target.command[4]]
        assert "hil.resc" in target.script_output
        client = target.connect()
        assert client.boot_info.board == "fakeboard"
        assert client.echo(b"renode") == b"renode"
        assert target.executed_instructions() == 0x21EB     # the recorded reply
        pid = target.pid
        assert pid in live_pids()
    assert not target.is_running and pid not in live_pids()
    seen = (run_dir / "hil.resc.seen").read_text().splitlines()
    assert seen == ["start", "machine ElapsedVirtualTime", "sysbus.cpu ExecutedInstructions", "quit"]


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
    assert seen == ["start", "machine ElapsedVirtualTime", "pause", "machine Reset",
                    "start", "machine ElapsedVirtualTime", "quit"]


def test_missing_renode_says_where_to_get_it(idle_elf, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(RENODE_ENV, raising=False)
    with pytest.raises(RenodeMissingError) as excinfo:
        create_target("renode", run_dir=tmp_path).start(idle_elf)
    assert isinstance(excinfo.value, ToolMissingError)
    message = str(excinfo.value)
    assert "releases" in message and RENODE_ENV in message and "apt-get" not in message
    monkeypatch.setenv(RENODE_ENV, str(tmp_path / "nowhere" / "renode"))
    with pytest.raises(RenodeMissingError, match="nowhere/renode not found"):
        renode_executable()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _connect(port: int) -> socket.socket:
    deadline = Deadline(10)
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            if deadline.expired():
                raise
            time.sleep(0.05)


def _read_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        more = sock.recv(count - len(data))
        if not more:
            break
        data += more
    return data


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    deadline = Deadline(10)
    while marker not in strip_telnet(data) and not deadline.expired():
        data += sock.recv(4096)
    return data


# --- the real Renode ---------------------------------------------------------------------------------

@needs_renode
def test_real_renode_runs_the_firmware(tmp_path):
    from harness.firmware.build import build_firmware
    image = build_firmware(board="netduinoplus2", engine="none")
    with create_target("renode", run_dir=tmp_path) as target:
        target.start(image)
        client = target.connect()
        assert client.boot_info.board == "netduinoplus2"
        assert client.info().build_id == image.build_id
        payload = bytes(range(256)) * 8                       # a whole 2 KiB frame, every byte value
        assert client.echo(payload, timeout_s=10) == payload
        before = target.executed_instructions()
        assert client.echo(b"renode") == b"renode"
        assert target.executed_instructions() > before > 0
        again = target.connect()  # pause, machine Reset, start: a fresh BOOT
        assert again.boot_info.build_id == image.build_id
        again.arm_fault(1)  # FaultMode.HANG on the next request
        with pytest.raises(DeviceTimeoutError):
            again.echo(b"hang", timeout_s=1.0)
        recovered = target.reset_device()
        assert recovered.echo(b"back") == b"back" and target.resets == 1
        pid = target.pid
    assert pid not in live_pids()
