"""Request/response client for link protocol v1 over any pyserial URL (docs/protocol.md).

    with DeviceClient.open("socket://127.0.0.1:4321", target="qemu") as client:
        boot = client.wait_boot(timeout_s=5)
        info = client.info()
        assert client.echo(b"ping") == b"ping"

``request`` keeps one request in flight; ``send`` + ``wait_reply`` pipeline several (the device
answers in order). Replies are matched by ``seq``; stale replies (another ``seq``) are discarded. ERROR replies raise DeviceError, a FAULT report raises DeviceFaultError,
and a missed deadline raises DeviceTimeoutError naming the target and the last bytes seen.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass

from harness.deadline import Deadline
from harness.errors import (DeviceError, DeviceFaultError, DeviceRebootedError, DeviceTimeoutError,
                            FrameError, LinkError, ProtocolError)
from harness.link.frame import SEQ_UNKNOWN, Frame, FrameReader, encode_frame
from harness.link.protocol import (FAULT_ARM, RESPONSE_BIT, DeviceInfo, MsgType, parse_error,
                                   parse_fault, parse_info)
from harness.link.transport import Transport

log = logging.getLogger(__name__)

# The host accepts any frame the header can describe; the device's own limit is in INFO.
HOST_MAX_PAYLOAD = 0xFFFF
DEFAULT_TIMEOUT_S = 5.0
RECENT_BYTES = 64
# Longest single wait on the link; short enough that Ctrl-C is seen promptly.
POLL_S = 0.25


@dataclass(frozen=True)
class Exchange:
    """Monotonic timestamps of the last request: written, first reply byte, reply complete."""

    request_bytes: int
    reply_bytes: int
    written_s: float
    first_byte_s: float
    done_s: float

    @property
    def to_first_byte_s(self) -> float:
        """Request transfer + device work + first-byte latency."""
        return self.first_byte_s - self.written_s

    @property
    def reply_transfer_s(self) -> float:
        """First reply byte to the reply's delimiter: the device -> host transfer."""
        return self.done_s - self.first_byte_s

    @property
    def total_s(self) -> float:
        return self.done_s - self.written_s


def _type_name(msg_type: int) -> str:
    try:
        return MsgType(msg_type).name
    except ValueError:
        try:
            return MsgType(msg_type & ~RESPONSE_BIT).name + "_REPLY"
        except ValueError:
            return f"0x{msg_type:02x}"


class DeviceClient:
    """Talks protocol v1 to one device over a Transport. Use ``DeviceClient.open(url)``."""

    def __init__(self, transport: Transport, *, target: str | None = None,
                 default_timeout_s: float = DEFAULT_TIMEOUT_S, hint: str = ""):
        self.transport = transport
        self.target = target
        self.default_timeout_s = default_timeout_s
        # appended to timeout/link messages: what to check next (e.g. the emulator's log path)
        self.hint = hint
        self.boot_info: DeviceInfo | None = None
        self.last_exchange: Exchange | None = None
        self._reader = FrameReader(HOST_MAX_PAYLOAD)
        self._pending: deque[Frame | FrameError] = deque()
        self._recent = bytearray()
        self._seq = 0
        self._first_rx_s: float | None = None
        self._last_frame_error: FrameError | None = None
        # seq -> (written at, payload bytes) of requests sent and not yet answered
        self._sent: dict[int, tuple[float, int]] = {}

    @classmethod
    def open(cls, url: str, *, target: str | None = None, baudrate: int = 115200,
             default_timeout_s: float = DEFAULT_TIMEOUT_S, hint: str = "") -> "DeviceClient":
        return cls(Transport.open(url, baudrate=baudrate), target=target,
                   default_timeout_s=default_timeout_s, hint=hint)

    # --- context manager -----------------------------------------------------------------------

    def __enter__(self) -> "DeviceClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    @property
    def url(self) -> str:
        return self.transport.url

    # --- the conversation ----------------------------------------------------------------------

    def discard_input(self, quiet_s: float = 0.1, timeout_s: float = 2.0) -> int:
        """Read and drop what the link still holds until it stays quiet for ``quiet_s`` (bounded
        by ``timeout_s``); returns the bytes dropped. For a device held in reset: whatever
        arrives then was sent before (a network serial port's buffers keep a previous
        session's replies, even its BOOT), and must not be taken for this session's."""
        deadline = Deadline(timeout_s)
        dropped = 0
        while not deadline.expired():
            data = self.transport.read_some(min(quiet_s, deadline.remaining_s()))
            if not data:
                break
            dropped += len(data)
        self._reader = FrameReader(HOST_MAX_PAYLOAD)
        self._pending.clear()
        if dropped:
            log.info("%s: dropped %d stale bytes before the reset's BOOT", self.target or self.url, dropped)
        return dropped

    def wait_boot(self, timeout_s: float | None = None) -> DeviceInfo:
        """Wait for the device's unsolicited BOOT frame; return its parsed payload."""
        deadline = Deadline(self._timeout(timeout_s))
        while True:
            frame = self._next_frame(deadline, "BOOT")
            if frame.type == MsgType.BOOT:
                self.boot_info = parse_info(frame.payload)
                return self.boot_info
            if frame.type == MsgType.FAULT:
                raise DeviceFaultError(parse_fault(frame.payload))
            log.warning("%s: discarded %s frame (seq %d) while waiting for BOOT",
                        self.target or self.url, _type_name(frame.type), frame.seq)

    def request(self, msg_type: int, payload: bytes = b"", timeout_s: float | None = None) -> Frame:
        """Send one request and return its reply frame (type ``msg_type | 0x80``, same seq)."""
        deadline = Deadline(self._timeout(timeout_s))
        seq = self.send(msg_type, payload)
        return self.wait_reply(seq, msg_type, deadline.remaining_s())

    def send(self, msg_type: int, payload: bytes = b"") -> int:
        """Write one request without waiting; returns its seq for ``wait_reply``.

        Pipelining: several requests may be sent before their replies are read; the device
        answers in order, so wait for the seqs in the order they were sent.
        """
        seq = self._next_seq()
        wire = encode_frame(Frame(msg_type, seq, payload))
        self._first_rx_s = None
        self._write(wire)
        self._sent[seq] = (time.monotonic(), len(payload))
        return seq

    def wait_reply(self, seq: int, msg_type: int, timeout_s: float | None = None) -> Frame:
        """The reply to request ``seq`` (sent with ``send``). ERROR replies raise DeviceError."""
        deadline = Deadline(self._timeout(timeout_s))
        written_s, request_bytes = self._sent.pop(seq, (time.monotonic(), 0))
        name = _type_name(msg_type)
        while True:
            frame = self._next_frame(deadline, f"reply to {name} (seq {seq})")
            if frame.type == MsgType.FAULT:
                raise DeviceFaultError(parse_fault(frame.payload))
            if frame.type == MsgType.ERROR and frame.seq in (seq, SEQ_UNKNOWN):
                error = parse_error(frame.payload)
                raise DeviceError(error.code, error.code_name, error.detail, error.text, request=name)
            if frame.type == MsgType.BOOT:
                self.boot_info = parse_info(frame.payload)
                raise DeviceRebootedError(f"{self._where()}device rebooted while serving {name} (seq {seq}); "
                                          f"reset cause: {self.boot_info.reset_cause or 'unknown'}")
            if frame.seq == seq and frame.type == (msg_type | RESPONSE_BIT):
                done_s = time.monotonic()
                first_s = self._first_rx_s if self._first_rx_s is not None else done_s
                self.last_exchange = Exchange(request_bytes, len(frame.payload), written_s, first_s, done_s)
                return frame
            if frame.seq == seq:
                raise ProtocolError(f"{self._where()}{name} (seq {seq}) answered with type "
                                    f"{_type_name(frame.type)}, expected {_type_name(msg_type | RESPONSE_BIT)}")
            log.debug("%s: discarded stale %s frame (seq %d) while waiting for seq %d",
                      self.target or self.url, _type_name(frame.type), frame.seq, seq)

    def info(self, timeout_s: float | None = None) -> DeviceInfo:
        return parse_info(self.request(MsgType.INFO, b"", timeout_s).payload)

    def echo(self, data: bytes, timeout_s: float | None = None) -> bytes:
        """Round-trip ``data`` through the device; returns what came back (the caller compares)."""
        return self.request(MsgType.ECHO, data, timeout_s).payload

    def request_reboot(self, timeout_s: float | None = None) -> DeviceInfo:
        """Ask the firmware to reboot itself (the RESET request: it needs a device that still
        answers; a hung one is reset through its target, ``Target.reset_device``) and wait for
        its new BOOT; returns the BOOT info."""
        deadline = Deadline(self._timeout(timeout_s))
        self.request(MsgType.RESET, b"", deadline.remaining_s())
        return self.wait_boot(deadline.remaining_s())

    def arm_fault(self, mode: int, after: int = 0, timeout_s: float | None = None) -> None:
        """Test-only fault injection (FAULT_ARM): the device serves ``after`` more requests, then
        fails the next one as ``mode`` says (FaultMode.HANG: no reply until a reset; CRASH:
        HardFault). Any reset disarms it."""
        if not 0 <= after <= 0xFFFF:
            raise ValueError(f"after must be 0..65535 requests, got {after}")
        self.request(MsgType.FAULT_ARM, FAULT_ARM.pack(int(mode), 0, after), timeout_s)

    # --- raw access, for tests of bad input ------------------------------------------------------

    def send_raw(self, wire: bytes) -> None:
        """Write bytes as they are (e.g. a corrupted frame); the reply is read with ``receive``."""
        self._write(wire)

    def receive(self, timeout_s: float | None = None) -> Frame:
        """The next frame from the device, whatever it is (no seq matching, no error mapping)."""
        return self._next_frame(Deadline(self._timeout(timeout_s)), "a frame")

    # --- internals -----------------------------------------------------------------------------

    def _timeout(self, timeout_s: float | None) -> float:
        return self.default_timeout_s if timeout_s is None else timeout_s

    def _next_seq(self) -> int:
        # 0xFFFF is reserved for replies to undecodable frames; BOOT uses 0, so start at 1.
        self._seq = (self._seq + 1) % SEQ_UNKNOWN
        return self._seq

    def _where(self) -> str:
        return f"[{self.target}] " if self.target else ""

    def _write(self, wire: bytes) -> None:
        try:
            self.transport.write(wire)
        except LinkError as e:
            raise LinkError(f"{self._where()}{e}{self._hint()}") from e

    def _hint(self) -> str:
        return f"; {self.hint}" if self.hint else ""

    def _next_frame(self, deadline: Deadline, waiting_for: str) -> Frame:
        while True:
            while self._pending:
                event = self._pending.popleft()
                if isinstance(event, Frame):
                    return event
                # a frame from the device the host cannot decode: say so, keep reading (COBS resyncs)
                log.warning("%s: undecodable frame from the device: %s", self.target or self.url, event)
                self._last_frame_error = event
            if deadline.expired():
                last_error = self._last_frame_error
                bad = f"; last undecodable frame: {last_error}" if last_error else ""
                raise DeviceTimeoutError(
                    f"no {waiting_for} within {deadline.timeout_s:.2f} s on {self.url}{bad}{self._hint()}",
                    target=self.target, last_bytes=bytes(self._recent))
            try:
                data = self.transport.read_some(min(POLL_S, deadline.remaining_s()))
            except LinkError as e:
                raise LinkError(f"{self._where()}{e} while waiting for {waiting_for}; last bytes seen: "
                                f"{self._recent[-32:].hex(' ') or 'nothing'}{self._hint()}") from e
            if data:
                if self._first_rx_s is None:
                    self._first_rx_s = time.monotonic()
                self._recent += data
                del self._recent[:-RECENT_BYTES]
                self._pending.extend(self._reader.feed(data))
