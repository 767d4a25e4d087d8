"""The firmware's C codec and ring, compiled for the host, against the SHARED vectors
(tests/vectors/frames.json) and against the Python codec (harness.link)."""

from __future__ import annotations

import ctypes
import json
import pathlib
import random

import pytest

from harness.errors import FrameError, ToolMissingError
from harness.firmware.build import build_host_library
from harness.link.cobs import cobs_decode, cobs_encode, max_encoded_size
from harness.link.frame import Frame, FrameReader, decode_frame, encode_frame, max_wire_size
from harness.link.protocol import ErrorCode

VECTORS = json.loads((pathlib.Path(__file__).parents[1] / "vectors" / "frames.json").read_text())
MAX_PAYLOAD = VECTORS["max_payload"]

RX_PENDING, RX_FRAME, RX_ERROR = 0, 1, 2


class CFrame(ctypes.Structure):  # hil_frame_t
    _fields_ = [("payload", ctypes.POINTER(ctypes.c_uint8)), ("seq", ctypes.c_uint16),
                ("length", ctypes.c_uint16), ("type", ctypes.c_uint8)]

    def to_frame(self) -> Frame:
        return Frame(self.type, self.seq, ctypes.string_at(self.payload, self.length))


class CReader(ctypes.Structure):  # hil_frame_reader_t
    _fields_ = [("buf", ctypes.c_void_p), ("limit", ctypes.c_size_t), ("max_payload", ctypes.c_size_t),
                ("fill", ctypes.c_size_t), ("overflowed", ctypes.c_bool)]


class CRing(ctypes.Structure):  # hil_ring_t
    _fields_ = [("buf", ctypes.c_void_p), ("mask", ctypes.c_uint32), ("head", ctypes.c_uint32),
                ("tail", ctypes.c_uint32), ("dropped", ctypes.c_uint32)]


@pytest.fixture(scope="session")
def lib():
    try:
        # UBSan loads into any process (ASan would need LD_PRELOAD); -fno-sanitize-recover makes
        # undefined behaviour abort the run instead of scrolling past
        path = build_host_library(sanitize=("undefined",))
    except ToolMissingError as e:
        pytest.skip(str(e))
    lib = ctypes.CDLL(str(path))
    u8p, size = ctypes.c_char_p, ctypes.c_size_t
    signatures = {
        "hil_crc32": (ctypes.c_uint32, [u8p, size]),
        "hil_cobs_encode": (ctypes.c_long, [u8p, size, ctypes.c_void_p, size]),
        "hil_cobs_decode": (ctypes.c_long, [u8p, size, ctypes.c_void_p, size]),
        "hil_frame_encode": (ctypes.c_long, [ctypes.c_uint8, ctypes.c_uint16, u8p, size, ctypes.c_void_p, size]),
        "hil_frame_decode": (ctypes.c_int, [ctypes.c_void_p, size, size, ctypes.POINTER(CFrame)]),
        "hil_frame_reader_init": (ctypes.c_bool, [ctypes.POINTER(CReader), ctypes.c_void_p, size, size]),
        "hil_frame_reader_push": (ctypes.c_int, [ctypes.POINTER(CReader), ctypes.c_uint8,
                                                 ctypes.POINTER(CFrame), ctypes.POINTER(ctypes.c_int)]),
        "hil_ring_init": (ctypes.c_bool, [ctypes.POINTER(CRing), ctypes.c_void_p, size]),
        "hil_ring_push": (ctypes.c_bool, [ctypes.POINTER(CRing), ctypes.c_uint8]),
        "hil_ring_pop": (ctypes.c_bool, [ctypes.POINTER(CRing), ctypes.POINTER(ctypes.c_uint8)]),
        "hil_ring_read": (size, [ctypes.POINTER(CRing), ctypes.c_void_p, size]),
        "hil_ring_count": (size, [ctypes.POINTER(CRing)]),
        "hil_ring_dropped": (ctypes.c_uint32, [ctypes.POINTER(CRing)]),
    }
    for name, (restype, argtypes) in signatures.items():
        getattr(lib, name).restype = restype
        getattr(lib, name).argtypes = argtypes
    return lib


# ---- thin Python faces of the C functions ------------------------------------------------

def c_cobs_encode(lib, raw: bytes) -> bytes:
    out = ctypes.create_string_buffer(max_encoded_size(len(raw)))
    n = lib.hil_cobs_encode(raw, len(raw), out, len(out))
    assert n >= 0
    return out.raw[:n]


def c_cobs_decode(lib, encoded: bytes) -> bytes | None:
    out = ctypes.create_string_buffer(max(len(encoded), 1))
    n = lib.hil_cobs_decode(encoded, len(encoded), out, len(out))
    return None if n < 0 else out.raw[:n]


def c_encode_frame(lib, frame: Frame) -> bytes:
    out = ctypes.create_string_buffer(max_wire_size(len(frame.payload)) + 1)
    n = lib.hil_frame_encode(frame.type, frame.seq, frame.payload, len(frame.payload), out, len(out))
    assert n > 0
    return out.raw[:n]


def c_decode_frame(lib, encoded: bytes, max_payload: int = MAX_PAYLOAD) -> Frame | str:
    """The decoded Frame, or the ErrorCode name of the rejection."""
    buf = ctypes.create_string_buffer(encoded, max(len(encoded), 1))
    frame = CFrame()
    rc = lib.hil_frame_decode(buf, len(encoded), max_payload, ctypes.byref(frame))
    return frame.to_frame() if rc == 0 else ErrorCode(rc).name


class CStreamReader:
    def __init__(self, lib, max_payload: int = MAX_PAYLOAD):
        self.lib = lib
        self.storage = ctypes.create_string_buffer(max_wire_size(max_payload))
        self.reader = CReader()
        assert lib.hil_frame_reader_init(ctypes.byref(self.reader), self.storage, len(self.storage), max_payload)

    def feed(self, data: bytes) -> list[Frame | str]:
        events: list[Frame | str] = []
        frame, error = CFrame(), ctypes.c_int(0)
        for byte in data:
            status = self.lib.hil_frame_reader_push(ctypes.byref(self.reader), byte, ctypes.byref(frame),
                                                    ctypes.byref(error))
            if status == RX_FRAME:
                events.append(frame.to_frame())  # copy now: the payload lives in the reader's buffer
            elif status == RX_ERROR:
                events.append(ErrorCode(error.value).name)
            else:
                assert status == RX_PENDING
        return events


def py_events(data: bytes, max_payload: int = MAX_PAYLOAD) -> list[Frame | str]:
    return [e.code if isinstance(e, FrameError) else e for e in FrameReader(max_payload).feed(data)]


# ---- shared vectors ----------------------------------------------------------------------

@pytest.mark.parametrize("vector", VECTORS["cobs"], ids=lambda v: v["raw"][:16])
def test_cobs_vectors(lib, vector):
    raw, encoded = bytes.fromhex(vector["raw"]), bytes.fromhex(vector["encoded"])
    assert c_cobs_encode(lib, raw) == encoded
    assert c_cobs_decode(lib, encoded) == raw


@pytest.mark.parametrize("vector", VECTORS["frames"], ids=lambda v: v["name"])
def test_frame_vectors_decode_and_encode(lib, vector):
    wire = bytes.fromhex(vector["wire"])
    expected = Frame(vector["type"], vector["seq"], bytes.fromhex(vector["payload"]))
    assert wire[-1] == 0
    assert c_decode_frame(lib, wire[:-1]) == expected
    assert c_encode_frame(lib, expected) == wire
    assert CStreamReader(lib).feed(wire) == [expected]


@pytest.mark.parametrize("vector", VECTORS["rejects"], ids=lambda v: v["name"])
def test_reject_vectors(lib, vector):
    encoded = bytes.fromhex(vector["encoded"])
    assert c_decode_frame(lib, encoded) == vector["error"]
    with pytest.raises(FrameError) as python_rejection:
        decode_frame(encoded, MAX_PAYLOAD)
    assert python_rejection.value.code == vector["error"]  # both codecs give the pinned answer
    assert CStreamReader(lib).feed(encoded + b"\x00") == [vector["error"]]


def test_stream_mixing_rejects_and_frames(lib):
    frames = VECTORS["frames"]
    rejects = VECTORS["rejects"]
    stream = bytearray(b"\x00\x00")  # leading empty frames are skipped
    expected: list[Frame | str] = []
    for index, reject in enumerate(rejects):
        stream += bytes.fromhex(reject["encoded"]) + b"\x00"
        expected.append(reject["error"])
        good = frames[index % len(frames)]
        stream += bytes.fromhex(good["wire"])
        expected.append(Frame(good["type"], good["seq"], bytes.fromhex(good["payload"])))
        if index % 3 == 0:
            stream += b"\x00"  # a stray flush between frames answers nothing
    stream += b"\x01" * 5000 + b"\x00"  # far over the limit: dropped as it arrives, one OVERSIZE
    expected.append("OVERSIZE")
    stream += bytes.fromhex(frames[1]["wire"])
    expected.append(Frame(frames[1]["type"], frames[1]["seq"], bytes.fromhex(frames[1]["payload"])))

    assert CStreamReader(lib).feed(bytes(stream)) == expected
    assert py_events(bytes(stream)) == expected


def test_stream_limit_is_exact(lib):
    limit = max_wire_size(MAX_PAYLOAD)
    for length, answer in ((limit, "BAD_COBS"), (limit + 1, "OVERSIZE")):
        # 0xFF code bytes: the last one runs past the end, so a buffered frame is BAD_COBS
        assert length % 255 != 0
        stream = b"\xff" * length + b"\x00"
        assert CStreamReader(lib).feed(stream) == [answer] == py_events(stream)


# ---- beyond the vectors: both codecs agree on random frames -------------------------------

@pytest.mark.parametrize("size", [0, 1, 253, 254, 255, 507, 508, MAX_PAYLOAD])
def test_random_frames_cross_codec(lib, size):
    rng = random.Random(size)
    for trial in range(20):
        zero_share = trial / 20  # from no zero bytes to mostly zeros
        payload = bytes(0 if rng.random() < zero_share else rng.randrange(1, 256) for _ in range(size))
        frame = Frame(rng.randrange(256), rng.randrange(0x10000), payload)
        wire = encode_frame(frame)
        assert c_encode_frame(lib, frame) == wire
        assert c_decode_frame(lib, wire[:-1]) == frame
        assert c_cobs_decode(lib, cobs_encode(payload)) == payload if payload else True
        assert cobs_decode(c_cobs_encode(lib, payload)) == payload


def test_crc32_is_zlib(lib):
    import zlib
    for data in (b"", b"123456789", bytes(range(256)) * 3):
        assert lib.hil_crc32(data, len(data)) == zlib.crc32(data)
    assert lib.hil_crc32(b"123456789", 9) == 0xCBF43926  # the CRC-32 check value


def test_encode_refuses_small_buffer(lib):
    out = ctypes.create_string_buffer(10)
    assert lib.hil_frame_encode(2, 1, b"hello", 5, out, len(out)) == -1
    assert lib.hil_cobs_encode(b"\x11" * 20, 20, out, len(out)) == -1


def test_reader_init_rejects_small_buffer(lib):
    storage = ctypes.create_string_buffer(max_wire_size(MAX_PAYLOAD) - 1)
    assert not lib.hil_frame_reader_init(ctypes.byref(CReader()), storage, len(storage), MAX_PAYLOAD)


# ---- ring --------------------------------------------------------------------------------

def make_ring(lib, size: int) -> tuple[CRing, ctypes.Array]:
    storage = ctypes.create_string_buffer(size)
    ring = CRing()
    assert lib.hil_ring_init(ctypes.byref(ring), storage, size)
    return ring, storage


def ring_pop_all(lib, ring: CRing) -> bytes:
    out, byte = bytearray(), ctypes.c_uint8()
    while lib.hil_ring_pop(ctypes.byref(ring), ctypes.byref(byte)):
        out.append(byte.value)
    return bytes(out)


@pytest.mark.parametrize("size", [0, 1, 3, 100, 4095])
def test_ring_init_rejects_non_power_of_two(lib, size):
    storage = ctypes.create_string_buffer(max(size, 1))
    assert not lib.hil_ring_init(ctypes.byref(CRing()), storage, size)


def test_ring_fifo_full_and_dropped(lib):
    ring, _storage = make_ring(lib, 8)
    pushed = [lib.hil_ring_push(ctypes.byref(ring), value) for value in range(1, 11)]
    assert pushed == [True] * 8 + [False] * 2  # full never overwrites
    assert lib.hil_ring_dropped(ctypes.byref(ring)) == 2
    assert lib.hil_ring_count(ctypes.byref(ring)) == 8
    assert ring_pop_all(lib, ring) == bytes(range(1, 9))
    assert lib.hil_ring_count(ctypes.byref(ring)) == 0


def test_ring_index_wraps_at_32_bits(lib):
    ring, _storage = make_ring(lib, 16)
    ring.head = ring.tail = 0xFFFFFFF8  # free-running indices just before they wrap
    for value in range(12):
        assert lib.hil_ring_push(ctypes.byref(ring), value + 100)
    assert ring.head == 4  # wrapped
    assert lib.hil_ring_count(ctypes.byref(ring)) == 12
    out = ctypes.create_string_buffer(5)
    assert lib.hil_ring_read(ctypes.byref(ring), out, 5) == 5
    assert out.raw == bytes(range(100, 105))
    assert ring_pop_all(lib, ring) == bytes(range(105, 112))


def test_ring_many_laps(lib):
    ring, _storage = make_ring(lib, 4)
    received = bytearray()
    for value in range(1000):
        assert lib.hil_ring_push(ctypes.byref(ring), value & 0xFF)
        if value % 3 == 2:
            received += ring_pop_all(lib, ring)
    received += ring_pop_all(lib, ring)
    assert bytes(received) == bytes(v & 0xFF for v in range(1000))
    assert lib.hil_ring_dropped(ctypes.byref(ring)) == 0
