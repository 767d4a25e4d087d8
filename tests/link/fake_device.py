"""A fake device on a real loopback socket, speaking link protocol v1 through harness.link.frame.

The host connects with ``socket://127.0.0.1:PORT``, the same code path as QEMU. Behaviour is a
``respond(frame) -> list[bytes]`` function; the default one answers like the firmware does.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable

from harness.errors import FrameError
from harness.link.frame import SEQ_UNKNOWN, Frame, FrameReader, encode_frame
from harness.link.protocol import ErrorCode, InfoTag, MsgType, encode_error, encode_tlv

MAX_PAYLOAD = 512
CRASH = 0x0F
CFSR_UNDEFINSTR = 1 << 16


def info_payload(reset_cause: str = "power-on") -> bytes:
    return encode_tlv({
        InfoTag.PROTOCOL_VERSION: bytes([1]),
        InfoTag.FIRMWARE_VERSION: b"0.1.0",
        InfoTag.BOARD: b"fakeboard",
        InfoTag.BUILD_ID: b"fake-0001",
        InfoTag.ENGINE: b"none",
        InfoTag.MAX_PAYLOAD: struct.pack("<H", MAX_PAYLOAD),
        InfoTag.RESET_CAUSE: reset_cause.encode(),
        200: b"future-tag",
    })


def reply(frame: Frame, payload: bytes = b"") -> bytes:
    return encode_frame(Frame(frame.type | 0x80, frame.seq, payload))


def error(seq: int, code: int, request_type: int = 0, detail: int = 0, text: str = "") -> bytes:
    return encode_frame(Frame(MsgType.ERROR, seq, encode_error(code, request_type, detail, text)))


def fault_payload() -> bytes:
    regs = [CFSR_UNDEFINSTR, 0x40000000, 0, 0, 1, 2, 3, 4, 12, 0xFFFFFFF9, 0x08000123, 0x01000000]
    return struct.pack("<12I", *regs)


def firmware_like(frame: Frame | FrameError) -> list[bytes]:
    """What the real firmware answers."""
    if isinstance(frame, FrameError):
        return [error(SEQ_UNKNOWN, ErrorCode[frame.code], 0, MAX_PAYLOAD if frame.code == "OVERSIZE" else 0)]
    if frame.type == MsgType.INFO:
        return [reply(frame, info_payload())]
    if frame.type == MsgType.ECHO:
        return [reply(frame, frame.payload)]
    if frame.type == MsgType.RESET:
        return [reply(frame), encode_frame(Frame(MsgType.BOOT, 0, info_payload("software")))]
    if frame.type == CRASH:
        return [encode_frame(Frame(MsgType.FAULT, 0, fault_payload()))]
    return [error(frame.seq, ErrorCode.UNKNOWN_TYPE, frame.type, frame.type, "no such request")]


class FakeDevice:
    """Serves one connection on 127.0.0.1:<free port> from a thread. Use as a context manager."""

    def __init__(self, respond: Callable[[Frame | FrameError], list[bytes]] = firmware_like,
                 boot: bool = True):
        self.respond = respond
        self.boot = boot
        self.received: list[Frame | FrameError] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.url = f"socket://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake-device", daemon=True)
        self.error: BaseException | None = None

    def __enter__(self) -> "FakeDevice":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._server.close()
        self._thread.join(timeout=5)
        assert not self._thread.is_alive(), "fake device thread did not stop"
        if self.error is not None:
            raise self.error

    def _serve(self) -> None:
        try:
            self._server.settimeout(0.05)
            while not self._stop.is_set():
                try:
                    conn, _ = self._server.accept()
                    break
                except (TimeoutError, socket.timeout):
                    continue
            else:
                return
            with conn:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conn.settimeout(0.05)
                if self.boot:
                    conn.sendall(encode_frame(Frame(MsgType.BOOT, 0, info_payload())))
                reader = FrameReader(MAX_PAYLOAD)
                while not self._stop.is_set():
                    try:
                        data = conn.recv(65536)
                    except (TimeoutError, socket.timeout):
                        continue
                    if not data:
                        return
                    for event in reader.feed(data):
                        self.received.append(event)
                        for wire in self.respond(event):
                            conn.sendall(wire)
        except OSError as e:
            if not self._stop.is_set():
                self.error = e
