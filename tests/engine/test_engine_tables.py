"""The engine's C tables (firmware/include/hil/engine.h, firmware/src/engine/hil_status.c) equal
the Python ones (harness.engine.host): the status names, the dtype codes, the dimension limit and
the ctypes mirrors of hil_error_t, hil_engine_t and hil_tensor_info_t, field by field, with the
offsets and sizes the host C compiler gives them."""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess

import numpy as np
import pytest

from harness.engine import host
from harness.engine.build import ENGINE_DIR, INCLUDE_DIR

HEADER = (INCLUDE_DIR / "hil" / "engine.h").read_text()
STATUS_SOURCE = (ENGINE_DIR / "hil_status.c").read_text()

# the C type of a field -> its ctypes type in host.py
C_TO_CTYPES = {"hil_status": ctypes.c_int, "hil_dtype": ctypes.c_int, "int32_t": ctypes.c_int32,
               "uint32_t": ctypes.c_uint32, "uint8_t": ctypes.c_uint8, "float": ctypes.c_float,
               "void *": ctypes.c_void_p, "hil_error_t": host._Error}
STRUCTS = {"hil_error_t": host._Error, "hil_engine_t": host._Engine, "hil_tensor_info_t": host._TensorInfo}


def c_enum(type_name: str) -> dict[str, int]:
    """`NAME = value` entries of `typedef enum { ... } type_name;`, in order."""
    body = re.search(r"typedef enum \{([^{}]*)\}\s*" + type_name + ";", HEADER, re.DOTALL)
    assert body, f"typedef enum {type_name} missing from engine.h"
    body_text = re.sub(r"/\*.*?\*/", "", body.group(1), flags=re.DOTALL)
    entries = re.findall(r"\b([A-Z][A-Z0-9_]*)\s*=\s*(\d+)", body_text)
    table = {name: int(value) for name, value in entries}
    assert len(table) == len(entries), f"duplicate name in {type_name}"
    return table


def c_define(name: str) -> int:
    match = re.search(rf"#define\s+{name}\s+(\d+)\s*$", HEADER, re.MULTILINE)
    assert match, f"#define {name} missing from engine.h"
    return int(match.group(1))


def c_struct(type_name: str) -> list[tuple[str, str, int | None]]:
    """(C type, field name, array length or None) of `typedef struct { ... } type_name;`."""
    body = re.search(r"typedef struct \{([^{}]*)\}\s*" + type_name + ";", HEADER, re.DOTALL)
    assert body, f"typedef struct {type_name} missing from engine.h"
    fields = []
    for declaration in re.sub(r"/\*.*?\*/", "", body.group(1), flags=re.DOTALL).split(";"):
        declaration = " ".join(declaration.split())
        if not declaration:
            continue
        match = re.fullmatch(r"([a-z_0-9]+(?: \*)?)\s*\*?\s*([a-z_0-9]+)(?:\[(\w+)\])?", declaration)
        assert match, f"{type_name}: cannot read the field declaration {declaration!r}"
        c_type, name, length = match.groups()
        if "*" in declaration and "*" not in c_type:
            c_type += " *"
        fields.append((c_type, name, None if length is None else
                       (int(length) if length.isdigit() else c_define(length))))
    return fields


def test_status_names_equal_the_c_enum_in_order():
    statuses = c_enum("hil_status")
    codes = {name.removeprefix("HIL_ERR_").removeprefix("HIL_"): value for name, value in statuses.items()
             if name != "HIL_ERR_COUNT_"}
    assert sorted(codes.values()) == list(range(len(codes))), "hil_status codes are not 0..n-1"
    assert host.STATUS_NAMES == sorted(codes, key=codes.get)
    assert len(host.STATUS_NAMES) == 15 and host.STATUS_NAMES[10] == "ARENA_TOO_SMALL"


def test_status_names_equal_hil_status_c():
    names = re.search(r"names\[HIL_ERR_COUNT_\] = \{(.*?)\};", STATUS_SOURCE, re.DOTALL)
    assert names, "the names table is missing from hil_status.c"
    assert re.findall(r'"([A-Z_]+)"', names.group(1)) == host.STATUS_NAMES


def test_status_names_equal_the_built_library():
    lib = host.load_library()
    assert [lib.hil_status_name(code).decode() for code in range(len(host.STATUS_NAMES))] == host.STATUS_NAMES
    assert lib.hil_status_name(len(host.STATUS_NAMES)).decode() == "UNKNOWN"
    error = host.EngineError(10, needed=100, given=50)
    assert error.status_name == "ARENA_TOO_SMALL" and "needs 100 arena bytes, given 50" in str(error)


def test_dtype_codes_equal_the_c_enum():
    dtypes = c_enum("hil_dtype")
    assert {value: name.removeprefix("HIL_DTYPE_") for name, value in dtypes.items()} == {
        code: {np.dtype("<f4"): "FLOAT32", np.dtype("<i4"): "INT32", np.dtype("<i2"): "INT16",
               np.dtype("i1"): "INT8"}[dtype] for code, dtype in host._DTYPES.items()}


def test_max_dims_equals_the_c_define():
    assert host.MAX_DIMS == c_define("HIL_ENGINE_MAX_DIMS") == 6


@pytest.mark.parametrize("type_name", sorted(STRUCTS))
def test_ctypes_struct_fields_equal_the_c_struct(type_name):
    expected = []
    for c_type, name, length in c_struct(type_name):
        assert c_type in C_TO_CTYPES, f"{type_name}.{name}: C type {c_type!r} has no ctypes mapping here"
        field_type = C_TO_CTYPES[c_type]
        expected.append((name, field_type if length is None else field_type * length))
    actual = STRUCTS[type_name]._fields_
    assert [name for name, _ in actual] == [name for name, _ in expected]
    for (name, actual_type), (_, expected_type) in zip(actual, expected):
        assert ctypes.sizeof(actual_type) == ctypes.sizeof(expected_type), f"{type_name}.{name}"
        assert getattr(actual_type, "_type_", actual_type) == getattr(expected_type, "_type_", expected_type), \
            f"{type_name}.{name}: {actual_type} in host.py, {expected_type} from engine.h"


def test_ctypes_layout_equals_the_host_compiler(tmp_path):
    """sizeof and offsetof of every field, as the host C compiler lays the structs out."""
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("no host C compiler (cc) on PATH")
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "hil/engine.h"', "int main(void) {"]
    for type_name in sorted(STRUCTS):
        lines.append(f'printf("{type_name} %zu\\n", sizeof({type_name}));')
        for _, name, _ in c_struct(type_name):
            lines.append(f'printf("{type_name}.{name} %zu\\n", offsetof({type_name}, {name}));')
    lines += ["return 0;", "}"]
    source = tmp_path / "layout.c"
    source.write_text("\n".join(lines) + "\n")
    subprocess.run([cc, "-std=c11", f"-I{INCLUDE_DIR}", "-o", str(tmp_path / "layout"), str(source)],
                   check=True, capture_output=True, text=True)
    printed = subprocess.run([str(tmp_path / "layout")], check=True, capture_output=True, text=True).stdout
    c_layout = {key: int(value) for key, value in (line.split() for line in printed.splitlines())}
    py_layout = {}
    for type_name, struct in sorted(STRUCTS.items()):
        py_layout[type_name] = ctypes.sizeof(struct)
        for name, _ in struct._fields_:
            py_layout[f"{type_name}.{name}"] = getattr(struct, name).offset
    assert py_layout == c_layout
