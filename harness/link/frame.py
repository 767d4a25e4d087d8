"""Link protocol v1 frame codec (specified in docs/protocol.md).

raw frame = header (8 bytes) | payload | CRC-32 (little-endian, over header and payload)
header    = version u8 | type u8 | seq u16 | length u16 | reserved u16   (little-endian)
wire      = COBS(raw) | 0x00
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass

from harness.errors import FrameError
from harness.link.cobs import CobsDecodeError, cobs_decode, cobs_encode, max_encoded_size

PROTOCOL_VERSION = 1
HEADER = struct.Struct("<BBHHH")
HEADER_SIZE = HEADER.size  # 8
CRC_SIZE = 4
OVERHEAD = HEADER_SIZE + CRC_SIZE  # 12
DELIMITER = b"\x00"
SEQ_UNKNOWN = 0xFFFF  # seq of an error reply to a frame whose header could not be trusted


@dataclass(frozen=True)
class Frame:
    type: int
    seq: int
    payload: bytes = b""


def crc32(data: bytes) -> int:
    """CRC-32 (IEEE 802.3, reflected, init and xorout 0xFFFFFFFF) - zlib's."""
    return binascii.crc32(data) & 0xFFFFFFFF


def encode_frame(frame: Frame) -> bytes:
    """Frame -> wire bytes, delimiter included."""
    if not 0 <= frame.type <= 0xFF:
        raise ValueError(f"type {frame.type} out of range 0..255")
    if not 0 <= frame.seq <= 0xFFFF:
        raise ValueError(f"seq {frame.seq} out of range 0..65535")
    if len(frame.payload) > 0xFFFF:
        raise ValueError(f"payload of {len(frame.payload)} bytes exceeds 65535")
    head = HEADER.pack(PROTOCOL_VERSION, frame.type, frame.seq, len(frame.payload), 0)
    body = head + frame.payload
    return cobs_encode(body + struct.pack("<I", crc32(body))) + DELIMITER


def max_wire_size(max_payload: int) -> int:
    """Largest encoded frame (without delimiter) a receiver with ``max_payload`` accepts."""
    return max_encoded_size(OVERHEAD + max_payload)


def decode_frame(encoded: bytes, max_payload: int) -> Frame:
    """Decode the bytes between two delimiters. Checks run in the order docs/protocol.md gives.

    Raises FrameError with code OVERSIZE, BAD_COBS, TRUNCATED, BAD_CRC, BAD_VERSION or BAD_LENGTH.
    """
    if len(encoded) > max_wire_size(max_payload):
        raise FrameError("OVERSIZE", f"{len(encoded)} encoded bytes exceed the limit "
                                     f"{max_wire_size(max_payload)} for max payload {max_payload}")
    try:
        raw = cobs_decode(encoded)
    except CobsDecodeError as e:
        raise FrameError("BAD_COBS", str(e)) from e
    if len(raw) < OVERHEAD:
        raise FrameError("TRUNCATED", f"{len(raw)} bytes decoded, a frame has at least {OVERHEAD}")
    if len(raw) > OVERHEAD + max_payload:
        raise FrameError("OVERSIZE", f"payload of {len(raw) - OVERHEAD} bytes exceeds max payload {max_payload}")
    body, (crc_sent,) = raw[:-CRC_SIZE], struct.unpack("<I", raw[-CRC_SIZE:])
    crc_calc = crc32(body)
    if crc_sent != crc_calc:
        raise FrameError("BAD_CRC", f"CRC sent 0x{crc_sent:08x}, computed 0x{crc_calc:08x}")
    version, msg_type, seq, length, _reserved = HEADER.unpack_from(body)
    if version != PROTOCOL_VERSION:
        raise FrameError("BAD_VERSION", f"protocol version {version}, expected {PROTOCOL_VERSION}")
    if length != len(body) - HEADER_SIZE:
        raise FrameError("BAD_LENGTH", f"header says {length} payload bytes, frame holds {len(body) - HEADER_SIZE}")
    return Frame(msg_type, seq, bytes(body[HEADER_SIZE:]))


class FrameReader:
    """Fed raw link bytes, emits decoded frames or FrameErrors (pyserial Packetizer-style).

    Empty frames (consecutive delimiters) are skipped. A frame longer than the limit is
    discarded up to its delimiter and reported once as OVERSIZE, without buffering it.
    """

    def __init__(self, max_payload: int):
        self.max_payload = max_payload
        self._limit = max_wire_size(max_payload)
        self._buffer = bytearray()
        self._overflowed = 0

    def feed(self, data: bytes) -> list[Frame | FrameError]:
        events: list[Frame | FrameError] = []
        for chunk in data.split(DELIMITER)[:-1] if DELIMITER in data else []:
            events.extend(self._complete(chunk))
        tail = data.rsplit(DELIMITER, 1)[-1] if DELIMITER in data else data
        self._append(tail)
        return events

    def pending(self) -> bytes:
        """Bytes received since the last delimiter (for timeout diagnostics)."""
        return bytes(self._buffer)

    def _append(self, data: bytes) -> None:
        if self._overflowed or len(self._buffer) + len(data) > self._limit:
            self._overflowed += len(self._buffer) + len(data)
            self._buffer.clear()
        else:
            self._buffer += data

    def _complete(self, chunk: bytes) -> list[Frame | FrameError]:
        self._append(chunk)
        overflowed, self._overflowed = self._overflowed, 0
        encoded, self._buffer = bytes(self._buffer), bytearray()
        if overflowed:
            return [FrameError("OVERSIZE", f"{overflowed} encoded bytes exceed the limit {self._limit}")]
        if not encoded:
            return []
        try:
            return [decode_frame(encoded, self.max_payload)]
        except FrameError as e:
            return [e]
