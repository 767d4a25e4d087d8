"""The pipeline payloads the host packs for the firmware (and the replies it unpacks) against the C
header that lays them out (firmware/agent/include/hil/protocol.h, "Pipeline payloads"): field
order and widths, sizes, kinds and flags. Host-only: the header is parsed as text, no QEMU.

protocol.h writes each layout as ``name:type`` in wire order in a comment on (or just above) its
size's ``#define``; the host's ``struct.Struct`` must read the same bytes the same way. A reserved
range in C may be read by the host as any unsigned integer of its width (it ignores it).
"""

from __future__ import annotations

import re
import struct

import numpy as np
import pytest

from harness.device import pipeline, preprocess, stream
from harness.firmware.build import FIRMWARE_DIR
from harness.layers import dump
from harness.quant.fold import AffineFold, ThresholdFold

PROTOCOL_H = FIRMWARE_DIR / "agent" / "include" / "hil" / "protocol.h"
PIPELINE_H = FIRMWARE_DIR / "include" / "hil" / "pipeline.h"
PREPROCESS_H = FIRMWARE_DIR / "include" / "hil" / "preprocess.h"
PREPROCESS_C = FIRMWARE_DIR / "src" / "preprocess" / "preprocess.c"

C_TYPES = {"u8": "B", "i8": "b", "u16": "H", "i16": "h", "u32": "I", "i32": "i", "i64": "q", "f32": "f"}
FIELD = re.compile(r"(\w+)(?:\[(\d+)\])?:(u8|i8|u16|i16|u32|i32|i64|f32|\d+)\b")

# size define in protocol.h -> the host's struct for the same bytes
HOST_STRUCTS = {
    "HIL_PREPROCESS_HEADER_SIZE": preprocess.PREPROCESS_HEADER,
    "HIL_AFFINE_RECORD_SIZE": preprocess.AFFINE_RECORD,
    "HIL_AFFINE16_RECORD_SIZE": preprocess.AFFINE16_RECORD,
    "HIL_THRESHOLD_RECORD_HEADER_SIZE": preprocess.THRESHOLD_HEADER,
    "HIL_LOAD_BEGIN_SIZE": pipeline.LOAD_BEGIN,
    "HIL_LOAD_BEGIN_REPLY_SIZE": pipeline.LOAD_BEGIN_REPLY,
    "HIL_LOAD_CHUNK_HEADER_SIZE": pipeline.CHUNK_HEADER,
    "HIL_INFER_HEADER_SIZE": pipeline.INFER_WINDOW_HEADER,
    "HIL_INFER_CODES_HEADER_SIZE": pipeline.INFER_CODES_HEADER,
    "HIL_INFER_REPLY_HEADER_SIZE": stream.INFER_REPLY,
    "HIL_MODEL_DESC_HEADER_SIZE": pipeline.MODEL_DESC,
    "HIL_TENSOR_DESC_SIZE": pipeline.TENSOR_DESC,
    "HIL_LAYER_CHUNK_HEADER_SIZE": dump.LAYER_CHUNK,
}


def defines(path) -> dict[str, int]:
    """`#define HIL_X <number>` lines (a trailing comment allowed), as {name: value}."""
    return {name: int(value, 0) for name, value in
            re.findall(r"^#define\s+(HIL_\w+)\s+\(?(0[xX][0-9a-fA-F]+|\d+)u?\)?\s*(?:/\*.*)?$",
                       path.read_text(), re.MULTILINE)}


def c_layout(name: str) -> list[tuple[str, str]]:
    """The layout written beside ``#define name``: [(field, struct code)], reserved bytes as 'x'."""
    lines = PROTOCOL_H.read_text().splitlines()
    (at,) = [i for i, line in enumerate(lines) if re.match(rf"#define\s+{name}\b", line)]
    trailing = re.search(r"/\*(.*)\*/", lines[at])
    above = re.fullmatch(r"\s*/\*(.*)\*/\s*", lines[at - 1])
    text = trailing.group(1) if trailing else above.group(1) if above else ""
    fields = []
    for field, count, kind in FIELD.findall(text):
        if kind.isdigit():
            assert field == "reserved", f"{name}: '{field}:{kind}': a byte count is for reserved ranges only"
            fields += [(field, "x")] * int(kind)
        else:
            fields += [(field, C_TYPES[kind])] * int(count or 1)
    assert fields, f"protocol.h writes no name:type layout beside #define {name}"
    return fields


def host_codes(layout: struct.Struct) -> list[str]:
    """A little-endian struct's format as one code a field ('6i' -> six 'i', '2x' -> two 'x')."""
    assert layout.format[0] == "<", f"{layout.format}: the wire is little-endian, without padding"
    return [code for count, code in re.findall(r"(\d*)([a-zA-Z?])", layout.format[1:]) for _ in range(int(count or 1))]


def matches(c_code: str, host_code: str) -> bool:
    """One field: the same code, or a reserved C range the host reads as an unsigned integer."""
    if c_code == host_code:
        return True
    return c_code == "x" and host_code in "xB"


def expand_reserved(fields: list[tuple[str, str]], host: list[str]) -> list[tuple[str, str]]:
    """Reserved C bytes grouped as the host reads them (an unused u16 'H' covers two)."""
    out, i = [], 0
    for code in host:
        size = struct.calcsize("<" + code)
        if fields[i][1] == "x" and code not in "xB":
            assert all(f[1] == "x" for f in fields[i:i + size]), fields[i:i + size]
            out.append(("reserved", code))
            i += size
        else:
            out.append(fields[i])
            i += 1
    assert i == len(fields)
    return out


@pytest.mark.parametrize("size_define", sorted(HOST_STRUCTS))
def test_host_struct_reads_the_c_layout(size_define):
    layout, host = c_layout(size_define), HOST_STRUCTS[size_define]
    sizes = defines(PROTOCOL_H)
    c_size = sum(struct.calcsize("<" + code) for _, code in layout)
    assert sizes[size_define] == c_size == host.size, (size_define, sizes[size_define], c_size, host.size)
    c_fields = expand_reserved(layout, host_codes(host))
    mismatched = [(f, c, h) for (f, c), h in zip(c_fields, host_codes(host), strict=True) if not matches(c, h)]
    assert not mismatched, f"{size_define}: C field / C code / host code {mismatched} (host {host.format})"


def test_model_desc_is_its_header_and_two_tensor_descriptions():
    text = PROTOCOL_H.read_text()
    assert re.search(r"#define HIL_MODEL_DESC_SIZE \(HIL_MODEL_DESC_HEADER_SIZE \+ 2u \* HIL_TENSOR_DESC_SIZE\)",
                     text)
    assert pipeline.MODEL_DESC.size + 2 * pipeline.TENSOR_DESC.size == 20 + 2 * 40


def test_kinds_flags_and_model_sources_equal_the_host():
    kinds = defines(PIPELINE_H)
    assert {k: kinds[f"HIL_PREPROCESS_KIND_{k}"] for k in ("AFFINE", "THRESHOLD", "AFFINE16")} == {
        "AFFINE": preprocess.KIND_AFFINE, "THRESHOLD": preprocess.KIND_THRESHOLD,
        "AFFINE16": preprocess.KIND_AFFINE16}
    flags = defines(PROTOCOL_H)
    assert flags["HIL_INFER_FLAG_EXCLUSIVE"] == pipeline.FLAG_EXCLUSIVE == dump.FLAG_EXCLUSIVE == 0x01
    assert flags["HIL_LAYER_FLAG_LAST"] == dump.FLAG_LAST == 0x01
    sources = defines(FIRMWARE_DIR / "agent" / "include" / "hil_agent" / "agent.h")
    assert {sources[f"HIL_AGENT_MODEL_SOURCE_{name.upper()}"]: name for name in pipeline.SOURCES.values()} == \
        pipeline.SOURCES


def test_threshold_limits_equal_the_host():
    """A threshold the host leaves out as never reached (32768) is the C side's limit, one past
    INT16_MAX, and a channel's table holds at most the C side's 255 entries."""
    assert defines(PREPROCESS_H)["HIL_PREPROCESS_THRESHOLDS"] == 255
    limit = re.search(r"#define COUNTS_LIMIT (\d+)", PREPROCESS_C.read_text())
    assert limit and int(limit.group(1)) == preprocess.NEVER_REACHED == 32768


def decode(fields: list[tuple[str, str]], payload: bytes) -> dict[str, int]:
    """Named fields of one record by the C layout (reserved bytes dropped)."""
    values = struct.unpack("<" + "".join(code for _, code in fields), payload)
    named = [name for name, code in fields if code != "x"]
    return dict(zip(named, values, strict=True))


def affine_fold(code_bits: int) -> AffineFold:
    """Two channels of distinct values, so a swapped field shows (int16 rails for 16 bits)."""
    rail = 32767 if code_bits == 16 else 127
    return AffineFold(source_axis=np.array([2, 0]), multiplier=np.array([123456, -7]),
                      offset=np.array([-(1 << 40) + 5, 99]), shift=np.array([47, 3]),
                      zero_point=0 if code_bits == 16 else -5,
                      code_min=np.array([-rail - 1 + 3, -11]), code_max=np.array([rail - 4, 13]),
                      input_channels=3, code_bits=code_bits)


@pytest.mark.parametrize(("code_bits", "kind", "record"), [(8, 1, "HIL_AFFINE_RECORD_SIZE"),
                                                          (16, 3, "HIL_AFFINE16_RECORD_SIZE")])
def test_affine_payload_fields_by_name(code_bits, kind, record):
    fold = affine_fold(code_bits)
    (payload,) = preprocess.encode_preprocess(fold, max_payload=2048)
    header = decode(c_layout("HIL_PREPROCESS_HEADER_SIZE"), payload[:8])
    assert header == {"kind": kind, "n_channels": 2, "n_axes": 3, "first": 0, "count": 2}
    size = defines(PROTOCOL_H)[record]
    assert len(payload) == 8 + 2 * size
    for j in range(2):
        fields = decode(c_layout(record), payload[8 + j * size:8 + (j + 1) * size])
        assert fields == {"source_axis": fold.source_axis[j], "shift": fold.shift[j],
                          "code_min": fold.code_min[j], "code_max": fold.code_max[j],
                          "multiplier": fold.multiplier[j], "offset": fold.offset[j],
                          "zero_point": fold.zero_point}


def test_threshold_payload_fields_by_name():
    never = preprocess.NEVER_REACHED
    thresholds = np.full((2, 255), never, dtype=np.int32)
    thresholds[0, :3] = [-300, 0, 450]
    thresholds[1, :1] = [-7]
    fold = ThresholdFold(source_axis=np.array([1, 2]), thresholds=thresholds, code_base=-128, input_channels=3)
    (payload,) = preprocess.encode_preprocess(fold, max_payload=2048)
    header = decode(c_layout("HIL_PREPROCESS_HEADER_SIZE"), payload[:8])
    assert header == {"kind": 2, "n_channels": 2, "n_axes": 3, "first": 0, "count": 2}
    at, record = 8, c_layout("HIL_THRESHOLD_RECORD_HEADER_SIZE")
    for j, reached in enumerate(([-300, 0, 450], [-7])):
        fields = decode(record, payload[at:at + 8])
        assert fields == {"source_axis": fold.source_axis[j], "code_base": -128, "n_thresholds": len(reached)}
        table = struct.unpack_from(f"<{len(reached)}i", payload, at + 8)
        assert list(table) == reached
        at += 8 + 4 * len(reached)
    assert at == len(payload)


def test_records_split_across_frames_keep_the_header_fields():
    """More records than one frame holds: each payload's first/count say which, as the C side checks."""
    fold = affine_fold(8)
    size = defines(PROTOCOL_H)["HIL_AFFINE_RECORD_SIZE"]
    payloads = preprocess.encode_preprocess(fold, max_payload=8 + size)
    headers = [decode(c_layout("HIL_PREPROCESS_HEADER_SIZE"), p[:8]) for p in payloads]
    assert [(h["first"], h["count"], h["n_channels"]) for h in headers] == [(0, 1, 2), (1, 1, 2)]
    assert [len(p) for p in payloads] == [8 + size, 8 + size]


def encode(fields: list[tuple[str, str]], values: dict[str, object]) -> bytes:
    """One payload as the C side writes it: every named field of the layout, reserved bytes 0."""
    named = [name for name, code in fields if code != "x"]
    assert sorted(set(named)) == sorted(values), (named, sorted(values))
    counts: dict[str, int] = {}
    packed = []
    for name, code in fields:
        if code == "x":
            continue
        value = values[name]
        if isinstance(value, (list, tuple)):          # name[n]: the next element
            value = value[counts.get(name, 0)]
            counts[name] = counts.get(name, 0) + 1
        packed.append(value)
    return struct.pack("<" + "".join(code for _, code in fields), *packed)


def tensor_desc(dtype: int, shape: tuple[int, ...], scale: float, zero_point: int, nbytes: int) -> bytes:
    dims = list(shape) + [0] * (6 - len(shape))
    return encode(c_layout("HIL_TENSOR_DESC_SIZE"), {"dtype": dtype, "rank": len(shape), "dims": dims,
                                                     "scale": scale, "zero_point": zero_point, "bytes": nbytes})


def test_model_description_read_by_name():
    """MODEL_INFO / LOAD_END as the agent writes it, field by field, read by the host's parser."""
    header = encode(c_layout("HIL_MODEL_DESC_HEADER_SIZE"), {
        "crc32": 0xDEADBEEF, "size": 7656, "arena_used": 9136, "arena_size": 32768, "source": 2,
        "n_inputs": 1, "n_outputs": 1})
    payload = header + tensor_desc(9, (1, 128, 3), 0.25, -4, 384) + tensor_desc(7, (1, 4), 0.5, 0, 8)
    assert len(payload) == 20 + 2 * 40
    info = pipeline.parse_model_info(payload)
    assert (info.crc32, info.size, info.arena_used, info.arena_size, info.source) == \
        (0xDEADBEEF, 7656, 9136, 32768, "uploaded")
    assert (info.input.dtype, info.input.shape, info.input.scale, info.input.zero_point, info.input.nbytes) == \
        (np.dtype("i1"), (1, 128, 3), 0.25, -4, 384)
    assert (info.output.dtype, info.output.shape, info.output.scale, info.output.nbytes) == \
        (np.dtype("<i2"), (1, 4), 0.5, 8)


def test_inference_reply_read_by_name():
    model = pipeline.parse_model_info(
        encode(c_layout("HIL_MODEL_DESC_HEADER_SIZE"), {"crc32": 1, "size": 2, "arena_used": 3, "arena_size": 4,
                                                        "source": 1, "n_inputs": 1, "n_outputs": 1})
        + tensor_desc(9, (1, 2, 3), 0.1, 0, 6) + tensor_desc(9, (1, 4), 0.2, 0, 4))
    codes, outputs = bytes(range(6)), bytes([250, 251, 252, 253])
    payload = encode(c_layout("HIL_INFER_REPLY_HEADER_SIZE"),
                     {"cost": 7_180_000, "input_len": 6, "output_len": 4}) + codes + outputs
    got_codes, got_outputs, cost = stream._parse_reply(payload, model)
    assert cost == 7_180_000
    assert got_codes.tobytes() == codes and got_codes.shape == (1, 2, 3)
    assert got_outputs.tobytes() == outputs and got_outputs.shape == (1, 4)


def test_layer_chunk_read_by_name():
    """One INFER_LAYERS frame as the agent writes it: the host takes the LAST flag, op, code,
    tensor and cost from where the C layout puts them."""
    from harness.link.frame import crc32
    data = bytes([1, 2, 0xFF, 4, 5, 6])
    chunk = encode(c_layout("HIL_LAYER_CHUNK_HEADER_SIZE"), {
        "frame": 0, "flags": 0x01, "op_index": 0, "n_ops": 1, "op_code": 3, "tensor_index": 7,
        "cost": 12345, "offset": 0, "crc32": crc32(data)})
    assembler = dump._Assembler()
    assembler.feed(chunk + tensor_desc(9, (2, 3), 0.5, -3, 6) + data)
    assert assembler.error is None and assembler.done
    (layer,) = assembler.layers
    assert (layer.op_index, layer.op_code, layer.tensor_index, layer.cost) == (0, 3, 7, 12345)
    assert layer.values.tolist() == [[1, 2, -1], [4, 5, 6]] and (layer.scale, layer.zero_point) == (0.5, -3)
