"""The portable engine cross-compiled for Cortex-M4F with the semihosting self-test of
tests/engine/qemu/, run on QEMU's mps2-an386; and the same self-test linked against TFLM."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from engine_support import REPO_ROOT
from harness.engine.build import (COMMON_FLAGS, ENGINE_DIR, INCLUDE_DIR, M4_FLAGS, _run, _stale, engine_headers,
                                  engine_sources)
from harness.errors import BuildError, ToolMissingError
from harness.paths import build_root

SELFTEST_DIR = REPO_ROOT / "tests" / "engine" / "qemu"
DEFAULT_BUILD_DIR = build_root() / "engine-qemu"


def build_qemu_selftest(build_dir: Path = DEFAULT_BUILD_DIR) -> Path:
    """Bare-metal ELF: the portable engine with the firmware's Cortex-M4F flags plus a
    semihosting driver (tests/engine/qemu/engine_selftest.c) for qemu-system-arm -M mps2-an386."""
    cc = os.environ.get("HIL_ARM_CC", "arm-none-eabi-gcc")
    if shutil.which(cc) is None:
        raise ToolMissingError(cc, "gcc-arm-none-eabi")
    output = Path(build_dir) / "engine_selftest.elf"
    sources = engine_sources() + [SELFTEST_DIR / "engine_selftest.c"]
    script = SELFTEST_DIR / "mps2_an386.ld"
    if not _stale(output, sources + engine_headers() + [script, Path(__file__)]):
        return output
    output.parent.mkdir(parents=True, exist_ok=True)
    cmd = [cc, *COMMON_FLAGS, *M4_FLAGS, "-o", str(output), *map(str, sources), "-nostartfiles",
           "--specs=nano.specs", f"-T{script}", "-Wl,--gc-sections", "-lm"]
    return _run(cmd, output, output.with_suffix(".log"))


def tflm_include_dirs(tflm_dir: Path) -> list[Path]:
    """Header roots of a TFLM git checkout (downloads/) or exported tree (third_party/); the
    same list engine.mk uses."""
    tflm_dir = Path(tflm_dir)
    downloads = tflm_dir / "tensorflow" / "lite" / "micro" / "tools" / "make" / "downloads"
    candidates = [tflm_dir, downloads / "flatbuffers" / "include", downloads / "gemmlowp",
                  downloads / "ruy", tflm_dir / "third_party" / "flatbuffers" / "include",
                  tflm_dir / "third_party" / "gemmlowp", tflm_dir / "third_party" / "ruy"]
    return [d for d in candidates if d.is_dir()]


def tflm_library(tflm_dir: Path) -> Path:
    tflm_dir = Path(tflm_dir)
    found = sorted(tflm_dir.glob("gen/*/lib/libtensorflow-microlite.a")) + \
        sorted(tflm_dir.glob("libtensorflow-microlite.a"))
    if not found:
        raise BuildError(f"no libtensorflow-microlite.a under {tflm_dir}/gen/*/lib or {tflm_dir}; "
                         "build TFLM with TARGET=cortex_m_generic TARGET_ARCH=cortex-m4+fp")
    return found[0]




def build_qemu_selftest_tflm(tflm_dir: Path, release: bool = True,
                             build_dir: Path = DEFAULT_BUILD_DIR) -> Path:
    """The same self-test linked against the tflm engine adapter and the user's TFLM library."""
    cc = os.environ.get("HIL_ARM_CC", "arm-none-eabi-gcc")
    cxx = os.environ.get("HIL_ARM_CXX", "arm-none-eabi-g++")
    for tool in (cc, cxx):
        if shutil.which(tool) is None:
            raise ToolMissingError(tool, "gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib")
    build_dir = Path(build_dir) / "tflm"
    build_dir.mkdir(parents=True, exist_ok=True)
    library = tflm_library(tflm_dir)
    isystem = [f"-isystem{d}" for d in tflm_include_dirs(tflm_dir)]
    defines = ["-DTF_LITE_STATIC_MEMORY"] + (["-DTF_LITE_STRIP_ERROR_STRINGS"] if release else [])
    arch = M4_FLAGS[:4] + ["-Os", "-g", "-ffunction-sections", "-fdata-sections", f"-I{INCLUDE_DIR}"]
    objects = []
    for source, compiler, flags in (
            (ENGINE_DIR / "tflm" / "engine_tflm.cc", cxx,
             ["-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics", *isystem, *defines]),
            (ENGINE_DIR / "hil_status.c", cc, ["-std=c11"]),
            (SELFTEST_DIR / "engine_selftest.c", cc, ["-std=c11"])):
        obj = build_dir / (source.name + ".o")
        _run([compiler, *arch, *flags, "-Wall", "-Wextra", "-Werror", "-c", str(source), "-o", str(obj)],
             obj, obj.with_suffix(".log"))
        objects.append(str(obj))
    output = build_dir / "engine_selftest_tflm.elf"
    cmd = [cxx, *M4_FLAGS[:4], "-o", str(output), *objects, str(library), "-nostartfiles",
           "--specs=nano.specs", "--specs=nosys.specs", f"-T{SELFTEST_DIR / 'mps2_an386.ld'}",
           "-Wl,--gc-sections", "-lm"]
    return _run(cmd, output, output.with_suffix(".log"))
