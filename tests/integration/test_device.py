"""The real firmware in real QEMU over a real socket: boot, INFO, ECHO, bad input, RESET, CRASH.

One QEMU serves the session (``hil_device``); tests that break the device get their own
(``hil_fresh_device``).
"""

from __future__ import annotations

import random
import struct

import pytest

from harness.errors import DeviceError, DeviceFaultError
from harness.link.cobs import cobs_encode
from harness.link.frame import SEQ_UNKNOWN, Frame, crc32, encode_frame
from harness.link.protocol import MsgType, parse_error

CRASH = 0x0F  # test-only request: the firmware executes an undefined instruction
CFSR_UNDEFINSTR = 1 << 16
ECHO_TOTAL_BYTES = 1 << 20


def raw_frame(msg_type: int, seq: int, payload: bytes, version: int = 1, length: int | None = None) -> bytes:
    body = struct.pack("<BBHHH", version, msg_type, seq, len(payload) if length is None else length, 0) + payload
    return body + struct.pack("<I", crc32(body))


def _section(image, name: str) -> tuple[int, int]:
    """(address, size) of an ELF section, from the image's ``arm-none-eabi-size -A`` report."""
    for line in image.size_report.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0] == name:
            return int(fields[2]), int(fields[1])
    raise AssertionError(f"{name} not in the size report of {image.elf}")


def test_boot_info(hil_device, hil_firmware):
    boot = hil_device.boot_info
    assert boot.board == hil_firmware.board
    assert boot.protocol_version == 1
    assert boot.engine == hil_firmware.engine   # none, unless --hil-engine says otherwise
    assert 64 <= boot.max_payload <= 4096
    assert boot.firmware_version and boot.build_id
    assert boot.cpu == "cortex-m4f"
    assert boot.cost_unit in ("instructions", "cycles")   # what the board counts (QEMU: instructions)
    assert boot.rx_buffer >= boot.max_payload


def test_info_matches_boot(hil_device):
    info = hil_device.client.info()
    boot = hil_device.boot_info
    assert info.board == boot.board and info.build_id == boot.build_id
    assert info.max_payload == boot.max_payload and info.protocol_version == 1


def test_echo_one_mebibyte_every_byte_checked(hil_device):
    client, max_payload = hil_device.client, hil_device.boot_info.max_payload
    rng = random.Random(20240601)
    sizes = [0, 1, 2, 253, 254, 255, max_payload - 1, max_payload]  # COBS block edges and limits
    total = requests = 0
    while total < ECHO_TOTAL_BYTES:
        size = sizes[requests] if requests < len(sizes) else rng.randint(1, max_payload)
        payload = rng.randbytes(size)
        if requests % 7 == 0:
            payload = bytes(size)  # all zeros: the worst case for COBS
        echoed = client.echo(payload, timeout_s=10)
        assert echoed == payload, f"request {requests}: {size} bytes, first difference at " \
            f"{next((i for i, (a, b) in enumerate(zip(payload, echoed)) if a != b), min(size, len(echoed)))}"
        total += size
        requests += 1
    assert total >= ECHO_TOTAL_BYTES


def _expect_undecodable(client, wire: bytes, code_name: str):
    client.send_raw(wire)
    frame = client.receive(timeout_s=5)
    assert (frame.type, frame.seq) == (MsgType.ERROR, SEQ_UNKNOWN), frame
    error = parse_error(frame.payload)
    assert error.code_name == code_name, error
    return error


def _bad_frames(max_payload: int) -> dict[str, tuple[bytes, str]]:
    good = bytearray(raw_frame(MsgType.ECHO, 100, b"hello"))
    flipped = bytearray(good)
    flipped[9] ^= 0x01
    return {
        "corrupted_crc": (cobs_encode(bytes(flipped)) + b"\x00", "BAD_CRC"),
        "truncated": (cobs_encode(bytes(good[:11])) + b"\x00", "TRUNCATED"),
        "bad_cobs": (bytes.fromhex("050102") + b"\x00", "BAD_COBS"),
        "oversize_payload": (cobs_encode(raw_frame(MsgType.ECHO, 101, b"\x01" * (max_payload + 1))) + b"\x00",
                             "OVERSIZE"),
        "oversize_stream": (b"\x01" * (3 * max_payload) + b"\x00", "OVERSIZE"),
        "bad_version": (cobs_encode(raw_frame(MsgType.INFO, 102, b"", version=2)) + b"\x00", "BAD_VERSION"),
        "bad_length": (cobs_encode(raw_frame(MsgType.ECHO, 103, b"hello", length=9)) + b"\x00", "BAD_LENGTH"),
    }


BAD_FRAME_NAMES = list(_bad_frames(600))


@pytest.mark.parametrize("name", BAD_FRAME_NAMES)
def test_bad_frame_gets_error_then_info_works(hil_device, hil_firmware, name):
    client, max_payload = hil_device.client, hil_device.boot_info.max_payload
    wire, code_name = _bad_frames(max_payload)[name]
    error = _expect_undecodable(client, wire, code_name)
    if code_name == "OVERSIZE":
        assert error.detail == max_payload
    assert client.info(timeout_s=5).board == hil_firmware.board


def test_half_frame_flushed_by_lone_delimiter(hil_device):
    client = hil_device.client
    wire = encode_frame(Frame(MsgType.ECHO, 7, b"abandoned"))
    client.send_raw(wire[:6])
    _expect_undecodable(client, b"\x00", "TRUNCATED")
    assert client.echo(b"after", timeout_s=5) == b"after"


def test_unknown_type_and_bad_payload_name_the_request(hil_device):
    client = hil_device.client
    with pytest.raises(DeviceError) as excinfo:
        client.request(0x42, b"", timeout_s=5)
    assert (excinfo.value.code_name, excinfo.value.detail) == ("UNKNOWN_TYPE", 0x42)
    with pytest.raises(DeviceError) as excinfo:
        client.request(MsgType.INFO, b"unexpected", timeout_s=5)
    assert (excinfo.value.code_name, excinfo.value.detail) == ("BAD_PAYLOAD", len(b"unexpected"))
    assert client.info(timeout_s=5).protocol_version == 1


def test_request_reboot_sends_a_new_boot(hil_device):
    client = hil_device.client
    first_boot = hil_device.boot_info
    boot = client.request_reboot(timeout_s=10)
    assert boot.reset_cause == "software"
    assert boot.build_id == first_boot.build_id
    assert client.echo(b"alive", timeout_s=5) == b"alive"


def test_crash_reports_undefinstr_fault(hil_fresh_device, hil_firmware):
    with pytest.raises(DeviceFaultError) as excinfo:
        hil_fresh_device.client.request(CRASH, b"", timeout_s=5)
    registers = excinfo.value.registers
    assert registers["cfsr"] & CFSR_UNDEFINSTR, f"CFSR 0x{registers['cfsr']:08x} lacks UNDEFINSTR"
    text_start, text_bytes = _section(hil_firmware, ".text")
    assert text_start <= registers["pc"] < text_start + text_bytes  # the faulting instruction is in the code
