"""Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999).

Frames on the wire are ``cobs_encode(raw) + b"\\x00"``; the encoded bytes never contain 0x00.
"""

from __future__ import annotations


class CobsDecodeError(ValueError):
    """The encoded bytes are not valid COBS."""


def max_encoded_size(raw_len: int) -> int:
    """Upper bound of ``len(cobs_encode(raw))`` for ``raw_len`` bytes (without the delimiter)."""
    return raw_len + 1 + raw_len // 254


def cobs_encode(raw: bytes) -> bytes:
    out = bytearray()
    block = bytearray()
    for byte in raw:
        if byte == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
        else:
            block.append(byte)
            if len(block) == 254:
                out.append(0xFF)
                out += block
                block.clear()
    out.append(len(block) + 1)
    out += block
    return bytes(out)


def cobs_decode(encoded: bytes) -> bytes:
    """Decode one COBS block sequence (no delimiter). Raises CobsDecodeError."""
    out = bytearray()
    index = 0
    length = len(encoded)
    if length == 0:
        raise CobsDecodeError("empty input")
    while index < length:
        code = encoded[index]
        if code == 0:
            raise CobsDecodeError(f"zero byte at offset {index}")
        end = index + code
        if end > length:
            raise CobsDecodeError(f"code 0x{code:02x} at offset {index} runs past the end ({length} bytes)")
        block = encoded[index + 1:end]
        if 0 in block:
            raise CobsDecodeError(f"zero byte inside block at offset {index}")
        out += block
        index = end
        if code != 0xFF and index < length:
            out.append(0)
    return bytes(out)
