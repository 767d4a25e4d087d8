"""The build id names the image: two builds that differ only in a make variable that changes the
image (an engine.mk variable: ENGINE_INT16, TFLM_CMSIS_NN, TFLM_INT16) get different ids, so
nightly history can tell them apart; the same variables give the same id, wherever they are
built; a TFLM library rebuilt at the same path is another id."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.firmware.build import build_firmware
from harness.paths import FIRMWARE_DIR

needs_cross = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("make") is None,
                                 reason="arm-none-eabi-gcc or make not installed")
TFLM_DIR = os.environ.get("HIL_TFLM_DIR")
needs_tflm = pytest.mark.skipif(not TFLM_DIR, reason="HIL_TFLM_DIR is not set: no TFLM tree to build the tflm engine against")


@needs_cross
def test_engine_variable_changes_the_build_id(tmp_path):
    with_int16 = build_firmware(engine="portable", build_dir=tmp_path / "a", extra_make_vars={"ENGINE_INT16": "1"})
    without = build_firmware(engine="portable", build_dir=tmp_path / "b", extra_make_vars={"ENGINE_INT16": "0"})
    again = build_firmware(engine="portable", build_dir=tmp_path / "c", extra_make_vars={"ENGINE_INT16": "1"})
    assert without.text_bytes < with_int16.text_bytes  # two images
    assert without.build_id != with_int16.build_id
    assert again.build_id == with_int16.build_id  # same variables, another folder
    assert with_int16.build_id == (tmp_path / "a" / "build_id.txt").read_text().strip()


def make_build_id(**make_vars: str) -> str:
    """BUILD_ID as the firmware's make computes it for these variables (`make info`; the build
    writes the same variable to build_id.txt and into the image)."""
    out = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(FIRMWARE_DIR), "info",
                          *(f"{k}={v}" for k, v in make_vars.items())],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    return next(line.split("=", 1)[1] for line in out.splitlines() if line.startswith("BUILD_ID="))


@needs_cross
@needs_tflm
def test_tflm_variables_change_the_build_id(tmp_path):
    with_cmsis = build_firmware(engine="tflm", build_dir=tmp_path / "cmsis",
                                extra_make_vars={"TFLM_DIR": TFLM_DIR, "TFLM_CMSIS_NN": "1"})
    generic = build_firmware(engine="tflm", build_dir=tmp_path / "generic",
                             extra_make_vars={"TFLM_DIR": TFLM_DIR, "TFLM_CMSIS_NN": "0"})
    assert generic.text_bytes != with_cmsis.text_bytes  # two images
    assert generic.build_id != with_cmsis.build_id
    base = {"ENGINE": "tflm", "TFLM_DIR": TFLM_DIR, "BUILD_DIR": str(tmp_path / "info")}
    assert make_build_id(**base, TFLM_CMSIS_NN="1") == with_cmsis.build_id
    assert make_build_id(**base, TFLM_INT16="1") != make_build_id(**base, TFLM_INT16="0")


@needs_cross
@needs_tflm
def test_a_rebuilt_tflm_library_changes_the_build_id(tmp_path):
    """The library's size and mtime are in the id: a library rebuilt in place is another image."""
    lib = next(Path(TFLM_DIR).glob("gen/*/lib/libtensorflow-microlite.a"))
    copy = tmp_path / "lib" / lib.parent.parent.name / "libtensorflow-microlite.a"  # keeps 'cmsis_nn' in the path
    copy.parent.mkdir(parents=True)
    shutil.copy2(lib, copy)
    base = {"ENGINE": "tflm", "TFLM_DIR": TFLM_DIR, "TFLM_LIB": str(copy), "BUILD_DIR": str(tmp_path / "info")}
    before = make_build_id(**base)
    assert make_build_id(**base) == before
    stat = copy.stat()
    os.utime(copy, (stat.st_atime, stat.st_mtime + 60))
    assert make_build_id(**base) != before
