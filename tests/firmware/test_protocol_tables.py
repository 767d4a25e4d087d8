"""The C protocol tables (firmware/agent/include/hil/protocol.h) equal the Python ones (harness.link)."""

from __future__ import annotations

import re

import pytest

from harness.firmware.build import FIRMWARE_DIR
from harness.link import frame
from harness.link.protocol import (ERROR_HEADER, FAULT_ARM, FAULT_REGISTERS, RESPONSE_BIT, ErrorCode, FaultMode,
                                   InfoTag, MsgType)

HEADER = (FIRMWARE_DIR / "agent" / "include" / "hil" / "protocol.h").read_text()


def c_enum(prefix: str) -> dict[str, int]:
    """`HIL_<prefix>_<NAME> = <value>` entries of the C header, as {NAME: value}."""
    entries = re.findall(rf"\bHIL_{prefix}_([A-Z0-9_]+)\s*=\s*(0[xX][0-9a-fA-F]+|\d+)\s*,", HEADER)
    table = {name: int(value, 0) for name, value in entries}
    assert len(table) == len(entries), f"duplicate HIL_{prefix}_ name in protocol.h"
    return table


def c_define(name: str) -> int:
    match = re.search(rf"#define\s+{name}\s+\(?(0[xX][0-9a-fA-F]+|\d+)u?\)?\s*$", HEADER, re.MULTILINE)
    assert match, f"#define {name} missing from protocol.h"
    return int(match.group(1), 0)


@pytest.mark.parametrize(("prefix", "py_enum"), [("MSG", MsgType), ("LINK_ERR", ErrorCode), ("TAG", InfoTag)])
def test_c_table_equals_python_enum(prefix, py_enum):
    assert c_enum(prefix) == {member.name: member.value for member in py_enum}


def test_crash_is_in_both_tables():
    assert c_enum("MSG")["CRASH"] == MsgType.CRASH == 0x0F


@pytest.mark.parametrize(("c_name", "py_value"), [
    ("HIL_PROTOCOL_VERSION", frame.PROTOCOL_VERSION),
    ("HIL_FRAME_HEADER_SIZE", frame.HEADER_SIZE),
    ("HIL_FRAME_CRC_SIZE", frame.CRC_SIZE),
    ("HIL_RESPONSE_BIT", RESPONSE_BIT),
    ("HIL_SEQ_UNKNOWN", frame.SEQ_UNKNOWN),
    ("HIL_ERROR_HEADER_SIZE", ERROR_HEADER.size),
    ("HIL_FAULT_WORDS", len(FAULT_REGISTERS)),
    ("HIL_FAULT_ARM_SIZE", FAULT_ARM.size),
    ("HIL_FAULT_MODE_HANG", FaultMode.HANG),
    ("HIL_FAULT_MODE_CRASH", FaultMode.CRASH),
])
def test_c_constants_equal_python(c_name, py_value):
    assert c_define(c_name) == py_value


def test_capability_bits_equal_python():
    from harness.link.protocol import Capability
    text = (FIRMWARE_DIR / "agent" / "include" / "hil_agent" / "agent.h").read_text()
    import re
    c_bits = {name: 1 << int(shift) for name, shift in
              re.findall(r"#define HIL_AGENT_CAP_(\w+) \(1u << (\d+)\)", text)}
    assert c_bits == {member.name: member.value for member in Capability}


def _defines(path) -> dict[str, int]:
    """`#define HIL_X <number>` lines of a C header (a trailing comment allowed), as {name: value}."""
    return {name: int(value, 0) for name, value in
            re.findall(r"#define\s+(HIL_\w+)\s+\(?(0[xX][0-9a-fA-F]+|\d+)u?\)?\s*(?:/\*.*)?$",
                       path.read_text(), re.MULTILINE)}


def test_pipeline_payloads_equal_python():
    """SET_PREPROCESS kinds and record sizes (kind 3: int16 codes for 16x8 models) and the
    inference reply header, C against harness.device (pipeline, preprocess, stream)."""
    from harness.device import pipeline, preprocess, stream
    kinds = _defines(FIRMWARE_DIR / "include" / "hil" / "pipeline.h")
    assert (kinds["HIL_PREPROCESS_KIND_AFFINE"], kinds["HIL_PREPROCESS_KIND_THRESHOLD"],
            kinds["HIL_PREPROCESS_KIND_AFFINE16"]) == (preprocess.KIND_AFFINE, preprocess.KIND_THRESHOLD,
                                                       preprocess.KIND_AFFINE16) == (1, 2, 3)
    sizes = _defines(FIRMWARE_DIR / "agent" / "include" / "hil" / "protocol.h")
    assert sizes["HIL_AFFINE_RECORD_SIZE"] == preprocess.AFFINE_RECORD.size == 20
    assert sizes["HIL_AFFINE16_RECORD_SIZE"] == preprocess.AFFINE16_RECORD.size == 24
    assert sizes["HIL_THRESHOLD_RECORD_HEADER_SIZE"] == preprocess.THRESHOLD_HEADER.size
    assert sizes["HIL_PREPROCESS_HEADER_SIZE"] == preprocess.PREPROCESS_HEADER.size
    assert sizes["HIL_INFER_REPLY_HEADER_SIZE"] == stream.INFER_REPLY.size
    assert sizes["HIL_TENSOR_DESC_SIZE"] == pipeline.TENSOR_DESC.size


def test_tensor_types_equal_python():
    """The agent's tensor types (MODEL_INFO dtype byte: the codes' width on the wire) are the ones
    the host parses, int16 (7, 16x8 models) included, each with its element size."""
    import numpy as np
    from harness.device.pipeline import DTYPES
    c_types = {name[len("HIL_AGENT_DTYPE_"):]: value for name, value in
               _defines(FIRMWARE_DIR / "agent" / "include" / "hil_agent" / "port.h").items()
               if name.startswith("HIL_AGENT_DTYPE_")}
    assert c_types == {"FLOAT32": 0, "INT32": 2, "INT16": 7, "INT8": 9}
    assert {value: DTYPES[value] for value in c_types.values()} == {
        0: np.dtype("<f4"), 2: np.dtype("<i4"), 7: np.dtype("<i2"), 9: np.dtype("i1")}
