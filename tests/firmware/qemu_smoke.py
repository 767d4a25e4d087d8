"""Manual smoke check of the firmware under QEMU (not a pytest module; the integration tests
proper live with the QEMU target backend).

    python tests/firmware/qemu_smoke.py [path/to/firmware.elf]

Boots netduinoplus2, then checks BOOT, INFO, ECHO of max payload, corrupted frames followed by
INFO, RESET -> BOOT, CRASH -> FAULT. Prints figures; exits non-zero on the first failure.
QEMU is always stopped in ``finally``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import serial

from harness.link.frame import Frame, FrameReader, encode_frame
from harness.link.protocol import ErrorCode, MsgType, parse_error, parse_fault, parse_info

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_ELF = os.path.join(REPO, "build", "firmware", "netduinoplus2-none", "firmware.elf")
PORT_LINE = re.compile(rb"disconnected:tcp:127\.0\.0\.1:(\d+),server")


def start_qemu(elf: str, extra: list[str]) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        ["qemu-system-arm", "-M", "netduinoplus2", "-display", "none", "-monitor", "none",
         "-kernel", elf, "-serial", "tcp:127.0.0.1:0,server=on,wait=on,nodelay=on", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10.0
    seen = b""
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen += line
        match = PORT_LINE.search(line)
        if match and match.group(1) != b"0":
            return proc, int(match.group(1))
        if proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"QEMU did not report its port: {seen!r}")


class Link:
    def __init__(self, port: int, max_payload: int = 2048):
        self.serial = serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=0.05)
        self.reader = FrameReader(max_payload)
        self.pending: list = []

    def send(self, data: bytes) -> None:
        self.serial.write(data)

    def receive(self, timeout_s: float = 5.0):
        deadline = time.monotonic() + timeout_s
        while not self.pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no frame within {timeout_s} s; pending {self.reader.pending()[-32:].hex()}")
            chunk = self.serial.read(4096)
            if chunk:
                self.pending.extend(self.reader.feed(chunk))
        return self.pending.pop(0)


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(what)
    print(f"  ok  {what}")


def main() -> int:
    elf = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_ELF
    proc, port = start_qemu(elf, [])
    try:
        link = Link(port)
        t0 = time.monotonic()
        boot = link.receive()
        expect(isinstance(boot, Frame) and boot.type == MsgType.BOOT and boot.seq == 0,
               f"BOOT after {1e3 * (time.monotonic() - t0):.1f} ms")
        info = parse_info(boot.payload)
        print("     ", info.as_dict())
        expect(info.max_payload == 2048 and info.reset_cause == "power-on", "BOOT info: max 2048, power-on")

        link.send(encode_frame(Frame(MsgType.INFO, 1)))
        reply = link.receive()
        expect(reply.type == MsgType.INFO.reply and reply.seq == 1 and reply.payload == boot.payload, "INFO == BOOT")

        payload = bytes((i * 7 + 3) & 0xFF for i in range(2048))
        rounds = 20
        t0 = time.monotonic()
        for seq in range(2, 2 + rounds):
            link.send(encode_frame(Frame(MsgType.ECHO, seq, payload)))
            reply = link.receive()
            assert reply.type == MsgType.ECHO.reply and reply.seq == seq and reply.payload == payload, reply
        elapsed = time.monotonic() - t0
        expect(True, f"ECHO 2048 B x {rounds}: {rounds * 2048 / elapsed / 1e3:.1f} kB/s each way "
                     f"({1e3 * elapsed / rounds:.1f} ms per round trip)")

        # corrupted and truncated frames, then INFO still answers
        good = bytearray(encode_frame(Frame(MsgType.ECHO, 40, b"hello")))
        good[3] ^= 0x01
        link.send(bytes(good))
        err = link.receive()
        expect(err.type == MsgType.ERROR and err.seq == 0xFFFF and parse_error(err.payload).code == ErrorCode.BAD_CRC,
               f"flipped bit -> {parse_error(err.payload)}")
        link.send(b"\x05\x01\x02\x00")
        err = link.receive()
        expect(parse_error(err.payload).code == ErrorCode.BAD_COBS, "bad COBS -> BAD_COBS")
        link.send(b"\x03\x01\x01\x00")
        err = link.receive()
        expect(parse_error(err.payload).code == ErrorCode.TRUNCATED, "short frame -> TRUNCATED")
        link.send(b"\x01" * 5000 + b"\x00")
        err = link.receive()
        parsed = parse_error(err.payload)
        expect(parsed.code == ErrorCode.OVERSIZE and parsed.detail == 2048, "5000 bytes -> OVERSIZE detail 2048")
        link.send(encode_frame(Frame(0x55, 41)))
        err = link.receive()
        parsed = parse_error(err.payload)
        expect(err.seq == 41 and parsed.code == ErrorCode.UNKNOWN_TYPE and parsed.detail == 0x55,
               "type 0x55 -> UNKNOWN_TYPE detail 0x55")
        link.send(encode_frame(Frame(MsgType.INFO, 42, b"x")))
        parsed = parse_error(link.receive().payload)
        expect(parsed.code == ErrorCode.BAD_PAYLOAD and parsed.detail == 1, "INFO with payload -> BAD_PAYLOAD")
        link.send(encode_frame(Frame(MsgType.INFO, 43)))
        reply = link.receive()
        expect(reply.type == MsgType.INFO.reply and reply.seq == 43, "INFO after the bad frames")

        link.send(encode_frame(Frame(MsgType.RESET, 44)))
        reply = link.receive()
        expect(reply.type == MsgType.RESET.reply and reply.seq == 44 and reply.payload == b"", "RESET reply")
        t0 = time.monotonic()
        boot2 = link.receive()
        expect(boot2.type == MsgType.BOOT, f"BOOT again {1e3 * (time.monotonic() - t0):.1f} ms after RESET reply")
        expect(parse_info(boot2.payload).reset_cause == "software", "reset cause software")
        link.send(encode_frame(Frame(MsgType.ECHO, 45, b"after reset")))
        expect(link.receive().payload == b"after reset", "ECHO after reset")

        link.send(encode_frame(Frame(MsgType.CRASH, 46)))
        fault = link.receive()
        expect(fault.type == MsgType.FAULT, "CRASH -> FAULT")
        regs = parse_fault(fault.payload)
        print("     ", " ".join(f"{k}=0x{v:08x}" for k, v in regs.items()))
        expect(regs["cfsr"] & (1 << 16) != 0, "CFSR UNDEFINSTR")
        expect(regs["hfsr"] & (1 << 30) != 0, "HFSR FORCED")
        link.send(encode_frame(Frame(MsgType.INFO, 47)))
        try:
            extra = link.receive(timeout_s=0.5)
            expect(False, f"halted device answered {extra}")
        except TimeoutError:
            expect(True, "halted after FAULT (no answer to INFO)")
        print("PASS")
        return 0
    finally:
        proc.kill()
        proc.wait(timeout=5)


if __name__ == "__main__":
    sys.exit(main())
