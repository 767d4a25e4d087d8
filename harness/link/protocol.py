"""Link protocol v1: message types, error codes and payload layouts (docs/protocol.md).

The numbers here and in firmware/agent/include/hil/protocol.h are one table; a test checks that
both sides agree.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field

from harness.errors import ProtocolError

RESPONSE_BIT = 0x80


class MsgType(enum.IntEnum):
    # host -> device requests; the reply is ``type | 0x80``
    INFO = 0x01
    ECHO = 0x02
    RESET = 0x03
    FAULT_ARM = 0x0E  # test-only: mode:u8 reserved:u8 after:u16; the fault fires on a later request
    CRASH = 0x0F  # test-only: the device executes udf; answered by FAULT, never by a reply
    # pipeline (firmware built with an engine, APP=pipeline; harness.device speaks them)
    SET_PREPROCESS = 0x10  # fold export (harness.quant.fold), channel records over one or more frames
    LOAD_BEGIN = 0x11      # size:u32 crc32:u32 of the whole .tflite
    LOAD_CHUNK = 0x12      # offset:u32 crc32:u32 data
    LOAD_END = 0x13        # engine load into the arena; reply: model description
    MODEL_INFO = 0x14      # the loaded model's description
    INFER_WINDOW = 0x15    # raw int16 counts -> preprocess -> invoke
    INFER_CODES = 0x16     # input tensor bytes as they are -> invoke
    INFER_LAYERS = 0x17    # as INFER_CODES, op by op: a stream of replies, every op's output tensor
    # device -> host
    ERROR = 0x7F
    BOOT = 0xC0   # unsolicited, once after every reset; payload as INFO's reply
    FAULT = 0xC1  # unsolicited, from the HardFault handler, before the device halts

    @property
    def reply(self) -> int:
        return self.value | RESPONSE_BIT


class ErrorCode(enum.IntEnum):
    # codec rejections (the same names FrameError.code uses)
    BAD_COBS = 1
    TRUNCATED = 2
    BAD_CRC = 3
    BAD_VERSION = 4
    BAD_LENGTH = 5
    OVERSIZE = 6
    # dispatch
    UNKNOWN_TYPE = 7
    BAD_PAYLOAD = 8
    INTERNAL = 9
    # pipeline
    BAD_STATE = 10         # not now: no model, no preprocessing, no load in progress
    TOO_LARGE = 11         # model larger than the model buffer, or I/O larger than a frame
    OUT_OF_ORDER = 12      # LOAD_CHUNK offset is not the next byte (detail = expected offset)
    BAD_CHUNK_CRC = 13     # LOAD_CHUNK CRC mismatch (detail = offset)
    BAD_MODEL_CRC = 14     # LOAD_END: whole-model CRC mismatch (detail = CRC computed)
    MODEL_REJECTED = 15    # the engine refused the model (detail = hil_status; text = hil_error_t)
    BAD_PREPROCESS = 16    # invalid SET_PREPROCESS (detail = channel index; text = the problem)
    SHAPE_MISMATCH = 17    # window or codes do not fit the model input (detail = expected)
    INVOKE_FAILED = 18     # the engine failed at run time (detail = hil_status)


class InfoTag(enum.IntEnum):
    PROTOCOL_VERSION = 1  # u8
    FIRMWARE_VERSION = 2  # str
    BOARD = 3             # str
    BUILD_ID = 4          # str
    ENGINE = 5            # str
    MAX_PAYLOAD = 6       # u16
    CPU = 7               # str
    COST_UNIT = 8         # str: "cycles" (DWT) or "instructions" (QEMU -icount)
    RX_BUFFER = 9         # u16, bytes in the receive ring
    RESET_CAUSE = 10      # str
    MODEL_CRC32 = 11      # u32, CRC-32 of the loaded model (0: none)
    MODEL_BYTES = 12      # u32, size of the loaded model
    MODEL_BUFFER = 13     # u32, bytes of RAM for an uploaded model
    ARENA_USED = 14       # u32
    ARENA_SIZE = 15       # u32
    MODEL_SOURCE = 16     # str: none, linked (in the image) or uploaded
    PREPROCESS_CHANNELS = 17  # u8, configured preprocessing channels (0: none)
    CAPABILITIES = 18     # u32, Capability bits: the optional requests the firmware serves (the agent's)


class Capability(enum.IntFlag):
    """INFO CAPABILITIES (firmware/agent/include/hil_agent/agent.h HIL_AGENT_CAP_*). A firmware
    that predates the tag serves everything (the harness's own pipeline firmware did)."""

    INFER_CODES = 1 << 0       # MODEL_INFO, INFER_CODES
    INFER_WINDOW = 1 << 1      # raw windows through the firmware's own preprocessing
    MODEL_UPLOAD = 1 << 2      # LOAD_BEGIN/CHUNK/END: without it the model is the one linked in
    SET_PREPROCESS = 1 << 3    # the harness's fold preprocessing: without it, the team's own
    RESET = 1 << 4
    FAULT_INJECTION = 1 << 5   # CRASH, FAULT_ARM
    INFER_LAYERS = 1 << 6      # every op's output tensor of one inference (harness.layers)


# what a firmware without the CAPABILITIES tag serves (it predates INFER_LAYERS)
ALL_CAPABILITIES = Capability(0x3F)


_INFO_INTS = {InfoTag.PROTOCOL_VERSION: "<B", InfoTag.MAX_PAYLOAD: "<H", InfoTag.RX_BUFFER: "<H",
              InfoTag.MODEL_CRC32: "<I", InfoTag.MODEL_BYTES: "<I", InfoTag.MODEL_BUFFER: "<I",
              InfoTag.ARENA_USED: "<I", InfoTag.ARENA_SIZE: "<I", InfoTag.PREPROCESS_CHANNELS: "<B",
              InfoTag.CAPABILITIES: "<I"}


@dataclass(frozen=True)
class DeviceInfo:
    protocol_version: int
    firmware_version: str
    board: str
    build_id: str
    engine: str
    max_payload: int
    cpu: str = ""
    cost_unit: str = ""
    rx_buffer: int = 0
    reset_cause: str = ""
    # pipeline firmware only (0 / "" otherwise); they change as models are loaded
    model_crc32: int = 0
    model_bytes: int = 0
    model_buffer: int = 0
    arena_used: int = 0
    arena_size: int = 0
    model_source: str = ""
    preprocess_channels: int = 0
    capabilities: int = int(ALL_CAPABILITIES)   # absent from INFO: a firmware that serves everything
    unknown: dict[int, bytes] = field(default_factory=dict)

    def serves(self, capability: "Capability") -> bool:
        return bool(self.capabilities & capability)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "unknown"}


def parse_tlv(payload: bytes) -> dict[int, bytes]:
    entries: dict[int, bytes] = {}
    offset = 0
    while offset < len(payload):
        if offset + 2 > len(payload):
            raise ProtocolError(f"TLV entry at offset {offset} truncated (payload {len(payload)} bytes)")
        tag, length = payload[offset], payload[offset + 1]
        value = payload[offset + 2: offset + 2 + length]
        if len(value) != length:
            raise ProtocolError(f"TLV tag {tag} at offset {offset} says {length} bytes, {len(value)} remain")
        entries[tag] = bytes(value)
        offset += 2 + length
    return entries


def encode_tlv(entries: dict[int, bytes]) -> bytes:
    out = bytearray()
    for tag, value in entries.items():
        if len(value) > 255:
            raise ValueError(f"TLV value for tag {tag} is {len(value)} bytes, max 255")
        out += bytes((tag, len(value))) + value
    return bytes(out)


def parse_info(payload: bytes) -> DeviceInfo:
    entries = parse_tlv(payload)
    values: dict[str, object] = {}
    unknown: dict[int, bytes] = {}
    for tag, raw in entries.items():
        try:
            info_tag = InfoTag(tag)
        except ValueError:
            unknown[tag] = raw
            continue
        name = info_tag.name.lower()
        if info_tag in _INFO_INTS:
            fmt = _INFO_INTS[info_tag]
            if len(raw) != struct.calcsize(fmt):
                raise ProtocolError(f"INFO {info_tag.name} has {len(raw)} bytes, expected {struct.calcsize(fmt)}")
            values[name] = struct.unpack(fmt, raw)[0]
        else:
            values[name] = raw.decode("utf-8", errors="replace")
    missing = [t.name for t in (InfoTag.PROTOCOL_VERSION, InfoTag.FIRMWARE_VERSION, InfoTag.BOARD,
                                InfoTag.BUILD_ID, InfoTag.ENGINE, InfoTag.MAX_PAYLOAD)
               if t.name.lower() not in values]
    if missing:
        raise ProtocolError(f"INFO reply lacks {', '.join(missing)}")
    return DeviceInfo(unknown=unknown, **values)  # type: ignore[arg-type]


ERROR_HEADER = struct.Struct("<HBBI")  # code, request type, reserved, detail


@dataclass(frozen=True)
class ErrorReply:
    code: int
    request_type: int
    detail: int
    text: str

    @property
    def code_name(self) -> str:
        try:
            return ErrorCode(self.code).name
        except ValueError:
            return f"UNKNOWN_ERROR_{self.code}"


def parse_error(payload: bytes) -> ErrorReply:
    if len(payload) < ERROR_HEADER.size:
        raise ProtocolError(f"ERROR reply of {len(payload)} bytes, expected at least {ERROR_HEADER.size}")
    code, request_type, _reserved, detail = ERROR_HEADER.unpack_from(payload)
    text = payload[ERROR_HEADER.size:].decode("utf-8", errors="replace")
    return ErrorReply(code, request_type, detail, text)


def encode_error(code: int, request_type: int, detail: int = 0, text: str = "") -> bytes:
    return ERROR_HEADER.pack(code, request_type, 0, detail) + text.encode()


FAULT_ARM = struct.Struct("<BBH")  # mode, reserved, requests served normally before the fault


class FaultMode(enum.IntEnum):
    """FAULT_ARM modes (test-only fault injection; any reset disarms)."""

    DISARM = 0
    HANG = 1    # the device spins with interrupts masked: no reply until a reset
    CRASH = 2   # udf: HardFault, FAULT frame, the device halts


FAULT_REGISTERS = ("cfsr", "hfsr", "mmfar", "bfar", "r0", "r1", "r2", "r3", "r12", "lr", "pc", "xpsr")


def parse_fault(payload: bytes) -> dict[str, int]:
    expected = 4 * len(FAULT_REGISTERS)
    if len(payload) != expected:
        raise ProtocolError(f"FAULT report of {len(payload)} bytes, expected {expected}")
    return dict(zip(FAULT_REGISTERS, struct.unpack(f"<{len(FAULT_REGISTERS)}I", payload)))
