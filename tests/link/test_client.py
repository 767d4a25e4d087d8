"""DeviceClient against a fake device on a real loopback socket (one layer: the client)."""

from __future__ import annotations

import logging
import time

import pytest

from fake_device import (CFSR_UNDEFINSTR, CRASH, MAX_PAYLOAD, FakeDevice, error, firmware_like, info_payload,
                         reply)
from harness.errors import DeviceError, DeviceFaultError, DeviceRebootedError, DeviceTimeoutError, LinkError
from harness.link.client import DeviceClient
from harness.link.frame import SEQ_UNKNOWN, Frame, encode_frame
from harness.link.protocol import ErrorCode, MsgType


@pytest.fixture
def device():
    with FakeDevice() as fake:
        yield fake


@pytest.fixture
def client(device):
    with DeviceClient.open(device.url, target="fake") as c:
        yield c


def test_wait_boot_parses_info(client):
    info = client.wait_boot(timeout_s=2)
    assert info.board == "fakeboard"
    assert info.protocol_version == 1
    assert info.max_payload == MAX_PAYLOAD
    assert info.reset_cause == "power-on"
    assert info.unknown == {200: b"future-tag"}
    assert client.boot_info == info


def test_info_and_echo(client, device):
    client.wait_boot(2)
    assert client.info().build_id == "fake-0001"
    payload = bytes(range(256)) + b"\x00" * 10
    assert client.echo(payload, timeout_s=2) == payload
    assert client.echo(b"", timeout_s=2) == b""
    seqs = [f.seq for f in device.received]
    assert seqs == [1, 2, 3]
    exchange = client.last_exchange
    assert exchange is not None and exchange.request_bytes == 0 and exchange.reply_bytes == 0
    assert 0 <= exchange.to_first_byte_s <= exchange.total_s < 2


def test_seq_wraps_below_ffff(client, device):
    client.wait_boot(2)
    client._seq = 0xFFFD  # noqa: SLF001 - jump near the wrap instead of sending 65k requests
    for _ in range(3):
        client.echo(b"x", timeout_s=2)
    assert [f.seq for f in device.received] == [0xFFFE, 0, 1]


def test_stale_replies_are_discarded(caplog):
    def stale_first(frame):
        # a late reply to an old request, then an unrelated ERROR for it, then the real reply
        old = Frame(frame.type, (frame.seq - 1) % 0xFFFF, b"old")
        return [reply(old, b"stale"), error(old.seq, ErrorCode.BAD_CRC), reply(frame, frame.payload)]

    with FakeDevice(stale_first) as fake, DeviceClient.open(fake.url) as client:
        client.wait_boot(2)
        with caplog.at_level(logging.DEBUG, logger="harness.link.client"):
            assert client.echo(b"fresh", timeout_s=2) == b"fresh"
        assert "discarded stale" in caplog.text


def test_error_reply_raises_device_error_with_fields(client):
    client.wait_boot(2)
    with pytest.raises(DeviceError) as excinfo:
        client.request(0x55, b"", timeout_s=2)
    e = excinfo.value
    assert (e.code, e.code_name, e.detail, e.text) == (7, "UNKNOWN_TYPE", 0x55, "no such request")
    assert e.request == "0x55"
    assert "UNKNOWN_TYPE" in str(e)
    # the link keeps working
    assert client.echo(b"after", timeout_s=2) == b"after"


def test_error_with_seq_ffff_raises_device_error():
    def garbled(frame):
        return [error(SEQ_UNKNOWN, ErrorCode.BAD_CRC, 0, 0)]

    with FakeDevice(garbled) as fake, DeviceClient.open(fake.url) as client:
        client.wait_boot(2)
        with pytest.raises(DeviceError) as excinfo:
            client.info(timeout_s=2)
        assert excinfo.value.code_name == "BAD_CRC"
        assert excinfo.value.request == "INFO"


def test_send_raw_corrupt_frame_then_receive_error(client, device):
    client.wait_boot(2)
    wire = bytearray(encode_frame(Frame(MsgType.ECHO, 9, b"hello")))
    wire[5] ^= 0x01
    client.send_raw(bytes(wire))
    frame = client.receive(timeout_s=2)
    assert (frame.type, frame.seq) == (MsgType.ERROR, SEQ_UNKNOWN)
    assert frame.payload[:2] == ErrorCode.BAD_CRC.to_bytes(2, "little")
    assert client.info(timeout_s=2).board == "fakeboard"


def test_fault_raises_device_fault_error(client):
    client.wait_boot(2)
    with pytest.raises(DeviceFaultError) as excinfo:
        client.request(CRASH, b"", timeout_s=2)
    regs = excinfo.value.registers
    assert regs["cfsr"] & CFSR_UNDEFINSTR
    assert regs["pc"] == 0x08000123
    assert "cfsr=0x00010000" in str(excinfo.value)


def test_request_reboot_waits_for_new_boot(client):
    client.wait_boot(2)
    boot = client.request_reboot(timeout_s=2)
    assert boot.reset_cause == "software"
    assert client.boot_info == boot


def test_unexpected_boot_during_request_is_a_device_reboot():
    def reboot(frame):
        return [encode_frame(Frame(MsgType.BOOT, 0, info_payload("watchdog")))]

    with FakeDevice(reboot) as fake, DeviceClient.open(fake.url) as client:
        client.wait_boot(2)
        with pytest.raises(DeviceRebootedError, match="rebooted.*watchdog") as caught:
            client.info(timeout_s=2)
        assert caught.value.kind == "reboot" and not isinstance(caught.value, LinkError)


def test_timeout_names_target_and_last_bytes():
    def mute_after_partial(frame):
        return [b"\x05\x11\x22\x33"]  # half a frame, never finished

    with FakeDevice(mute_after_partial) as fake, \
            DeviceClient.open(fake.url, target="fake:board", hint="target log: /x/qemu.log") as client:
        client.wait_boot(2)
        start = time.monotonic()
        with pytest.raises(DeviceTimeoutError) as excinfo:
            client.info(timeout_s=0.3)
        elapsed = time.monotonic() - start
    e = excinfo.value
    assert 0.3 <= elapsed < 1.5
    assert e.target == "fake:board"
    assert e.last_bytes.endswith(b"\x05\x11\x22\x33")
    assert "05 11 22 33" in str(e)
    assert "[fake:board]" in str(e) and "reply to INFO (seq 1)" in str(e) and "/x/qemu.log" in str(e)


def test_timeout_with_nothing_seen():
    with FakeDevice(boot=False) as fake, DeviceClient.open(fake.url, target="quiet") as client:
        with pytest.raises(DeviceTimeoutError, match="no BOOT.*last bytes seen: nothing") as excinfo:
            client.wait_boot(timeout_s=0.2)
        assert excinfo.value.last_bytes == b""


def test_peer_closing_raises_link_error():
    with FakeDevice(lambda frame: []) as fake, DeviceClient.open(fake.url) as client:
        client.wait_boot(2)
        fake._stop.set()  # noqa: SLF001 - the fake's thread closes its end
        # an orderly close reads as EOF ("disconnected"); a close with our request still unread
        # in the peer's buffer is a TCP reset (ECONNRESET) instead: both are the peer going away
        with pytest.raises(LinkError, match="closed|disconnected|reset by peer"):
            client.info(timeout_s=3)


def test_close_is_idempotent(device):
    client = DeviceClient.open(device.url)
    client.close()
    client.close()
    with pytest.raises(LinkError, match="closed"):
        client.info(timeout_s=0.1)


def test_open_bad_url_is_a_link_error():
    with pytest.raises(LinkError, match="cannot open link socket://127.0.0.1:1"):
        DeviceClient.open("socket://127.0.0.1:1")


def test_loop_url_reads_back_own_frames():
    """loop:// (no file descriptor) uses the other read path; a request sees its own frame echoed."""
    with DeviceClient.open("loop://") as client:
        client.send_raw(encode_frame(Frame(MsgType.ECHO, 3, b"abc")))
        assert client.receive(timeout_s=1) == Frame(MsgType.ECHO, 3, b"abc")
        with pytest.raises(DeviceTimeoutError):
            client.receive(timeout_s=0.05)


def test_firmware_like_fake_is_consistent():
    """The fake itself: a decode error gets seq 0xFFFF, as the protocol says."""
    from harness.errors import FrameError
    [wire] = firmware_like(FrameError("TRUNCATED", "x"))
    assert wire == error(SEQ_UNKNOWN, ErrorCode.TRUNCATED)


def test_discard_input_drops_a_previous_sessions_frames_and_boot():
    """A network serial port hands over what it buffered: replies and a BOOT of the last session.
    Dropped while the device is held in reset, none of it is taken for this session's BOOT."""
    import serial

    from harness.link.client import DeviceClient
    from harness.link.frame import Frame, encode_frame
    from harness.link.protocol import MsgType
    from harness.link.transport import Transport
    link = serial.serial_for_url("loop://", timeout=0)
    stale = encode_frame(Frame(MsgType.INFER_WINDOW | 0x80, 17, b"\x00" * 8)) + encode_frame(Frame(MsgType.BOOT, 0, b""))
    link.write(stale)
    client = DeviceClient(Transport(link, "loop://"))
    assert client.discard_input(quiet_s=0.05, timeout_s=1.0) == len(stale)
    assert client.discard_input(quiet_s=0.05, timeout_s=1.0) == 0
