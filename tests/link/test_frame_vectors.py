"""The Python codec against the ONE shared vector file (tests/vectors/frames.json); C uses the same."""

from __future__ import annotations

import json
import pathlib

import pytest

from harness.errors import FrameError
from harness.link.cobs import CobsDecodeError, cobs_decode, cobs_encode
from harness.link.frame import Frame, FrameReader, decode_frame, encode_frame

VECTORS = json.loads((pathlib.Path(__file__).parents[1] / "vectors" / "frames.json").read_text())
MAX_PAYLOAD = VECTORS["max_payload"]


def _ids(entries, key="name"):
    return [entry.get(key, entry.get("raw", "")[:16]) for entry in entries]


def test_vector_file_covers_every_rejection():
    assert {r["error"] for r in VECTORS["rejects"]} == {
        "BAD_COBS", "TRUNCATED", "BAD_CRC", "BAD_VERSION", "BAD_LENGTH", "OVERSIZE"}
    assert len(VECTORS["cobs"]) >= 9 and len(VECTORS["frames"]) >= 7


@pytest.mark.parametrize("vector", VECTORS["cobs"], ids=_ids(VECTORS["cobs"]))
def test_cobs(vector):
    raw, encoded = bytes.fromhex(vector["raw"]), bytes.fromhex(vector["encoded"])
    assert cobs_encode(raw) == encoded
    assert cobs_decode(encoded) == raw
    assert 0 not in encoded


@pytest.mark.parametrize("vector", VECTORS["frames"], ids=_ids(VECTORS["frames"]))
def test_frame_encode_decode_exact(vector):
    frame = Frame(vector["type"], vector["seq"], bytes.fromhex(vector["payload"]))
    wire = bytes.fromhex(vector["wire"])
    assert encode_frame(frame) == wire
    assert wire.endswith(b"\x00") and 0 not in wire[:-1]
    assert decode_frame(wire[:-1], MAX_PAYLOAD) == frame
    assert FrameReader(MAX_PAYLOAD).feed(wire) == [frame]


@pytest.mark.parametrize("vector", VECTORS["rejects"], ids=_ids(VECTORS["rejects"]))
def test_reject_with_exact_code(vector):
    encoded = bytes.fromhex(vector["encoded"])
    with pytest.raises(FrameError) as excinfo:
        decode_frame(encoded, MAX_PAYLOAD)
    assert excinfo.value.code == vector["error"]
    # the streaming reader gives the same single answer at the delimiter
    [event] = FrameReader(MAX_PAYLOAD).feed(encoded + b"\x00")
    assert isinstance(event, FrameError) and event.code == vector["error"]


def test_cobs_decode_rejects_zero_and_empty():
    with pytest.raises(CobsDecodeError):
        cobs_decode(b"")
    with pytest.raises(CobsDecodeError):
        cobs_decode(b"\x02\x00")
