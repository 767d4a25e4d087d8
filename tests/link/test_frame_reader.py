"""FrameReader as a stream parser: split feeds, resync, oversize discard without buffering."""

from __future__ import annotations

import json
import pathlib
import random

from harness.errors import FrameError
from harness.link.frame import Frame, FrameReader, encode_frame, max_wire_size

VECTORS = json.loads((pathlib.Path(__file__).parents[1] / "vectors" / "frames.json").read_text())
MAX_PAYLOAD = VECTORS["max_payload"]


def _frames():
    return [Frame(v["type"], v["seq"], bytes.fromhex(v["payload"])) for v in VECTORS["frames"]]


def test_every_split_point_yields_the_same_frames():
    frames = _frames()
    stream = b"".join(encode_frame(f) for f in frames)
    for cut in range(0, len(stream) + 1, 7):
        reader = FrameReader(MAX_PAYLOAD)
        assert reader.feed(stream[:cut]) + reader.feed(stream[cut:]) == frames


def test_byte_at_a_time_and_random_chunks():
    frames = _frames()
    stream = b"".join(encode_frame(f) for f in frames)
    reader = FrameReader(MAX_PAYLOAD)
    assert [e for b in stream for e in reader.feed(bytes([b]))] == frames
    rng = random.Random(1234)
    reader = FrameReader(MAX_PAYLOAD)
    events, offset = [], 0
    while offset < len(stream):
        size = rng.randint(1, 50)
        events += reader.feed(stream[offset:offset + size])
        offset += size
    assert events == frames


def test_empty_frames_skipped_and_pending_reports_partial():
    reader = FrameReader(MAX_PAYLOAD)
    wire = encode_frame(Frame(2, 5, b"abc"))
    assert reader.feed(b"\x00\x00" + wire[:4]) == []
    assert reader.pending() == wire[:4]
    assert reader.feed(wire[4:] + b"\x00") == [Frame(2, 5, b"abc")]
    assert reader.pending() == b""


def test_garbage_then_resync_at_next_delimiter():
    reader = FrameReader(MAX_PAYLOAD)
    good = Frame(1, 9, b"")
    events = reader.feed(b"\x03\x11\x22\x33\x44\x00" + encode_frame(good))
    assert isinstance(events[0], FrameError)
    assert events[1:] == [good]


def test_oversize_discarded_as_it_arrives_and_reported_once():
    reader = FrameReader(MAX_PAYLOAD)
    limit = max_wire_size(MAX_PAYLOAD)
    for _ in range(10):  # 10 x 500 bytes of one endless frame
        assert reader.feed(b"\x01" * 500) == []
        assert len(reader.pending()) <= limit
    events = reader.feed(b"\x00" + encode_frame(Frame(2, 1, b"ok")))
    assert len(events) == 2
    assert isinstance(events[0], FrameError) and events[0].code == "OVERSIZE"
    assert events[1] == Frame(2, 1, b"ok")


def test_frame_of_exactly_max_payload_accepted_one_more_rejected():
    reader = FrameReader(MAX_PAYLOAD)
    biggest = Frame(2, 1, bytes([0x5A]) * MAX_PAYLOAD)
    assert reader.feed(encode_frame(biggest)) == [biggest]
    [event] = reader.feed(encode_frame(Frame(2, 2, bytes([0x5A]) * (MAX_PAYLOAD + 1))))
    assert isinstance(event, FrameError) and event.code == "OVERSIZE"
