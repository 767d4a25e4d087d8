"""Regenerate tests/vectors/frames.json, the ONE file both frame codecs (Python, C) are tested from.

    python tests/vectors/make_frame_vectors.py

COBS vectors are the published examples (Cheshire & Baker; Wikipedia's table), written out by hand.
Frame vectors are built here with struct + zlib's CRC-32 and the hand-checked COBS examples, and the
rejects are built to hit each check of docs/protocol.md in its order.
"""

from __future__ import annotations

import json
import pathlib
import struct
import zlib

from harness.link.cobs import cobs_encode

MAX_PAYLOAD = 600
OUT = pathlib.Path(__file__).with_name("frames.json")

# Published COBS examples: (raw, encoded) in hex.
COBS_EXAMPLES = [
    ("00", "0101"),
    ("0000", "010101"),
    ("00110000", "0102110101"),
    ("11220033", "0311220233"),
    ("11223344", "0511223344"),
    ("11000000", "0211010101"),
    ("".join(f"{i:02x}" for i in range(1, 255)), "ff" + "".join(f"{i:02x}" for i in range(1, 255)) + "01"),
    ("00" + "".join(f"{i:02x}" for i in range(1, 255)), "01ff" + "".join(f"{i:02x}" for i in range(1, 255)) + "01"),
    ("".join(f"{i:02x}" for i in range(1, 256)), "ff" + "".join(f"{i:02x}" for i in range(1, 255)) + "02ff"),
]


def raw_frame(msg_type: int, seq: int, payload: bytes, version: int = 1, length: int | None = None) -> bytes:
    body = struct.pack("<BBHHH", version, msg_type, seq, len(payload) if length is None else length, 0) + payload
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def main() -> None:
    for raw_hex, enc_hex in COBS_EXAMPLES:
        assert cobs_encode(bytes.fromhex(raw_hex)).hex() == enc_hex, raw_hex
    frames = []

    def ok(name, msg_type, seq, payload):
        encoded = cobs_encode(raw_frame(msg_type, seq, payload))
        frames.append({"name": name, "type": msg_type, "seq": seq, "payload": payload.hex(),
                       "wire": (encoded + b"\x00").hex()})

    ok("info_request", 0x01, 0, b"")
    ok("echo_hello", 0x02, 1, b"hello")
    ok("echo_zeros", 0x02, 0x1234, b"\x00\x00\x01\x00")
    ok("echo_300_nonzero_crosses_cobs_block", 0x02, 7, bytes((i % 255) + 1 for i in range(300)))
    ok("echo_max_payload", 0x02, 0xFFFE, bytes(i & 0xFF for i in range(MAX_PAYLOAD)))
    ok("error_reply", 0x7F, 5, struct.pack("<HBBI", 3, 0x02, 0, 0))
    ok("seq_ffff_type_ff", 0xFF, 0xFFFF, b"\xff")

    rejects = []

    def reject(name, encoded: bytes, error: str):
        assert 0 not in encoded
        rejects.append({"name": name, "encoded": encoded.hex(), "error": error})

    good = bytearray(raw_frame(0x02, 1, b"hello"))
    flipped = bytearray(good)
    flipped[9] ^= 0x01
    reject("bad_crc_payload_bit", cobs_encode(bytes(flipped)), "BAD_CRC")
    crc_flipped = bytearray(good)
    crc_flipped[-1] ^= 0x80
    reject("bad_crc_in_crc", cobs_encode(bytes(crc_flipped)), "BAD_CRC")
    reject("truncated_11_bytes", cobs_encode(bytes(good[:11])), "TRUNCATED")
    reject("truncated_1_byte", cobs_encode(b"\x01"), "TRUNCATED")
    reject("bad_cobs_code_past_end", bytes.fromhex("050102"), "BAD_COBS")
    reject("bad_cobs_trailing_code_past_end", cobs_encode(bytes(good)) + b"\x09", "BAD_COBS")
    reject("oversize_payload", cobs_encode(raw_frame(0x02, 2, b"\x01" * (MAX_PAYLOAD + 1))), "OVERSIZE")
    reject("oversize_encoded", b"\x01" * 700, "OVERSIZE")
    reject("bad_version", cobs_encode(raw_frame(0x01, 3, b"", version=2)), "BAD_VERSION")
    reject("bad_length_short", cobs_encode(raw_frame(0x02, 4, b"hello", length=10)), "BAD_LENGTH")
    reject("bad_length_long", cobs_encode(raw_frame(0x02, 4, b"hello", length=2)), "BAD_LENGTH")

    doc = {
        "comment": "Shared frame-codec vectors for harness/link (Python) and firmware/agent/src/link (C). "
                   "Regenerate with tests/vectors/make_frame_vectors.py.",
        "max_payload": MAX_PAYLOAD,
        "cobs": [{"raw": r, "encoded": e} for r, e in COBS_EXAMPLES],
        "frames": frames,
        "rejects": rejects,
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT}: {len(COBS_EXAMPLES)} cobs, {len(frames)} frames, {len(rejects)} rejects")


if __name__ == "__main__":
    main()
