"""harness.firmware.build: the firmware builds for every board, rebuilds only what changed, and
fails with errors that say what to do."""

from __future__ import annotations

import shutil
import struct
import subprocess

import pytest

from harness.errors import BuildError, ConfigError, ToolMissingError
from harness.firmware import build as fw_build
from harness.firmware.build import build_firmware, list_boards

needs_cross = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("make") is None,
                                 reason="arm-none-eabi-gcc or make not installed")

FLASH_BASE = 0x08000000
# board -> (link IRQ number, flash bytes, RAM bytes) of the chip
BOARDS = {"netduinoplus2": (37, 1024 * 1024, 128 * 1024), "nucleo_f446re": (38, 512 * 1024, 128 * 1024)}


def symbol_address(elf, name: str) -> int:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise AssertionError(f"{name} not in {elf}")


def test_boards_are_folders():
    assert set(BOARDS) <= set(list_boards())


@needs_cross
@pytest.mark.parametrize("board", sorted(BOARDS))
def test_build_every_board(tmp_path, board):
    image = build_firmware(board=board, build_dir=tmp_path)
    irq, flash_size, ram_size = BOARDS[board]
    assert image.elf == tmp_path / "firmware.elf" and image.elf.is_file()
    assert image.bin.is_file() and image.hex.is_file()
    assert (image.board, image.engine) == (board, "none")
    assert image.build_id == (tmp_path / "build_id.txt").read_text().strip()
    assert "-src." in image.build_id
    assert 1000 < image.flash_bytes < flash_size
    # 4 KiB ring + one 2 KiB frame + 8 KiB stack at least; the chip's RAM at most
    assert 14 * 1024 < image.ram_bytes < ram_size
    assert image.sections[".stack"] == 8192
    assert image.flash_bytes == image.sections[".isr_vector"] + image.sections[".text"] + image.sections[".data"] \
        + image.sections.get(".ARM.exidx", 0) + image.sections.get(".init_array", 0)

    # the vector table: initial SP = top of the stack, the link IRQ -> the board's UART handler
    binary = image.bin.read_bytes()
    initial_sp, reset = struct.unpack_from("<II", binary, 0)
    assert initial_sp == symbol_address(image.elf, "__stack_top")
    assert reset == symbol_address(image.elf, "hil_reset_handler") | 1
    link_vector, = struct.unpack_from("<I", binary, 4 * (16 + irq))
    assert link_vector == symbol_address(image.elf, "board_link_irq_handler") | 1
    hardfault, = struct.unpack_from("<I", binary, 4 * 3)
    assert hardfault == symbol_address(image.elf, "hil_fault_entry") | 1


@needs_cross
def test_second_build_is_up_to_date(tmp_path):
    # a pinned id: other work in the tree between the two calls would rightly change the real one
    pinned = {"BUILD_ID": "test-build-id"}
    first = build_firmware(build_dir=tmp_path, extra_make_vars=pinned)
    mtime = first.elf.stat().st_mtime_ns
    second = build_firmware(build_dir=tmp_path, extra_make_vars=pinned)
    assert second.elf.stat().st_mtime_ns == mtime
    assert second.build_id == first.build_id == "test-build-id"
    assert "CC" not in (tmp_path / "build.log").read_text().split("\n", 1)[1]  # nothing compiled


@needs_cross
def test_changed_make_variable_rebuilds(tmp_path):
    build_firmware(build_dir=tmp_path)
    image = build_firmware(build_dir=tmp_path, extra_make_vars={"STACK_SIZE": "4096"})
    assert image.sections[".stack"] == 4096
    assert "CC      src/main.c" in (tmp_path / "build.log").read_text()  # the flags stamp changed


@needs_cross
def test_failing_build_raises_with_log(tmp_path):
    with pytest.raises(BuildError) as failure:
        build_firmware(build_dir=tmp_path, extra_make_vars={"OPT": "-Onot-a-level"})
    assert failure.value.log_path == str(tmp_path / "build.log")
    assert "-Onot-a-level" in (tmp_path / "build.log").read_text()
    assert "last lines" in str(failure.value) and "build.log" in str(failure.value)


def test_missing_cross_compiler_names_the_package(monkeypatch, tmp_path):
    real_which = shutil.which
    monkeypatch.setattr(fw_build.shutil, "which", lambda tool: None if tool == "arm-none-eabi-gcc" else real_which(tool))
    with pytest.raises(ToolMissingError) as missing:
        build_firmware(build_dir=tmp_path)
    assert missing.value.tool == "arm-none-eabi-gcc"
    assert missing.value.package == "gcc-arm-none-eabi"


def test_missing_make_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setattr(fw_build.shutil, "which", lambda tool: None)
    with pytest.raises(ToolMissingError) as missing:
        build_firmware(build_dir=tmp_path)
    assert (missing.value.tool, missing.value.package) == ("make", "make")


@pytest.mark.parametrize(("kwargs", "text"), [
    ({"board": "no_such_board"}, "unknown board"),
    ({"engine": "onnx"}, "unknown engine"),
    ({"extra_make_vars": {"bad name": "1"}}, "not an upper-case identifier"),
])
def test_bad_arguments(tmp_path, kwargs, text):
    if "extra_make_vars" in kwargs and shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("checked after the tool lookup")
    with pytest.raises(ConfigError, match=text):
        build_firmware(build_dir=tmp_path, **kwargs)


def test_host_library_reused_when_up_to_date(tmp_path):
    if shutil.which("cc") is None:
        pytest.skip("no host C compiler")
    first = fw_build.build_host_library(build_dir=tmp_path)
    mtime = first.stat().st_mtime_ns
    assert fw_build.build_host_library(build_dir=tmp_path).stat().st_mtime_ns == mtime
    assert first == tmp_path / "libhilcodec.so"
    sanitized = fw_build.build_host_library(build_dir=tmp_path, sanitize=("undefined",))
    assert sanitized.name == "libhilcodec-undefined.so"
    with pytest.raises(ConfigError):
        fw_build.build_host_library(build_dir=tmp_path, sanitize=("thread",))


@needs_cross
def test_engine_hook_adds_c_and_cxx_sources(tmp_path):
    """An engine.mk (here a stand-in, passed as ENGINE_MK) appends sources, defines and C++; its
    strong hil_engine_setup() replaces the weak default, and its static constructor is kept."""
    engine_dir = tmp_path / "engine"
    engine_dir.mkdir()
    (engine_dir / "engine.mk").write_text(
        f"ENGINE_SRCS += {engine_dir}/stand_in.c\n"
        f"ENGINE_CXXSRCS += {engine_dir}/stand_in.cc\n"
        "ENGINE_DEFINES += -DSTAND_IN_TYPE=0x20\n")
    (engine_dir / "stand_in.c").write_text(
        '#include "hil/dispatch.h"\n'
        "int stand_in_value(void);\n"
        "static void handle(const hil_frame_t *request)\n"
        "{\n"
        "    const uint8_t value = (uint8_t)stand_in_value();\n"
        "    hil_reply((uint8_t)(request->type | 0x80u), request->seq, &value, 1u);\n"
        "}\n"
        "int hil_engine_setup(void) { return hil_dispatch_register(STAND_IN_TYPE, handle); }\n")
    (engine_dir / "stand_in.cc").write_text(
        "struct Seven { int value; Seven() : value(7) {} };\n"
        "static Seven seven;\n"
        'extern "C" int stand_in_value(void) { return seven.value; }\n')
    image = build_firmware(engine="portable", build_dir=tmp_path / "build",
                           extra_make_vars={"ENGINE_MK": str(engine_dir / "engine.mk")})
    assert image.engine == "portable"
    assert image.sections.get(".init_array", 0) == 4  # one constructor, run by startup.c
    nm = subprocess.run(["arm-none-eabi-nm", str(image.elf)], capture_output=True, text=True, check=True).stdout
    setup = [line for line in nm.splitlines() if line.endswith(" hil_engine_setup")]
    assert len(setup) == 1 and setup[0].split()[1] == "T"  # the engine's strong definition
    assert "stand_in_value" in nm


@needs_cross
def test_engine_other_than_none_needs_engine_mk(tmp_path):
    with pytest.raises(BuildError, match="engine.mk"):
        build_firmware(engine="tflm", build_dir=tmp_path / "build",
                       extra_make_vars={"ENGINE_MK": str(tmp_path / "missing" / "engine.mk")})
