"""Host builds of the portable inference engine: a shared library for ctypes tests and an
AddressSanitizer/UBSan runner executable, both under build/host/.

Rebuilt only when a source is newer than the output; each build's compiler output is kept in a
log file named in the BuildError.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from harness.errors import BuildError, ToolMissingError

REPO_ROOT = Path(__file__).resolve().parents[2]
ENGINE_DIR = REPO_ROOT / "firmware" / "src" / "engine"
INCLUDE_DIR = REPO_ROOT / "firmware" / "include"
RUNNER_SOURCE = Path(__file__).resolve().parent / "c" / "engine_run.c"
DEFAULT_BUILD_DIR = REPO_ROOT / "build" / "host"

# Warnings are the firmware's; -ffp-contract=off keeps float expressions exactly as written
# (no fused multiply-add), which bit-exactness with TFLM relies on.
COMMON_FLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wmissing-prototypes",
                "-Wstrict-prototypes", "-ffp-contract=off", f"-I{INCLUDE_DIR}"]
VARIANT_FLAGS = {
    "release": ["-O2"],
    "asan": ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
             "-fno-sanitize-recover=all"],
}


def engine_sources() -> list[Path]:
    """C sources of the portable engine (what engine.mk compiles for ENGINE=portable)."""
    return sorted((ENGINE_DIR / "portable").glob("*.c")) + [ENGINE_DIR / "hil_status.c"]


def engine_headers() -> list[Path]:
    return sorted((ENGINE_DIR / "portable").glob("*.h")) + [INCLUDE_DIR / "hil" / "engine.h"]


def _compiler() -> str:
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        raise ToolMissingError(cc, "gcc")
    return cc


def _stale(output: Path, inputs: list[Path]) -> bool:
    if not output.exists():
        return True
    built = output.stat().st_mtime
    return any(p.stat().st_mtime > built for p in inputs)


def _run(cmd: list[str], output: Path, log: Path) -> Path:
    log.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    log.write_text(" ".join(cmd) + "\n" + proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise BuildError(f"host build of {output.name} failed (exit {proc.returncode})", str(log))
    return output


def build_library(variant: str = "release", build_dir: Path = DEFAULT_BUILD_DIR) -> Path:
    """Build libhil_engine[-asan].so; returns its path."""
    if variant not in VARIANT_FLAGS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {sorted(VARIANT_FLAGS)}")
    suffix = "" if variant == "release" else f"-{variant}"
    output = Path(build_dir) / f"libhil_engine{suffix}.so"
    sources = engine_sources()
    if not _stale(output, sources + engine_headers() + [Path(__file__)]):
        return output
    output.parent.mkdir(parents=True, exist_ok=True)
    cmd = [_compiler(), *COMMON_FLAGS, *VARIANT_FLAGS[variant], "-fPIC", "-shared",
           "-o", str(output), *map(str, sources), "-lm"]
    return _run(cmd, output, output.with_suffix(".log"))


def build_runner(variant: str = "asan", build_dir: Path = DEFAULT_BUILD_DIR) -> Path:
    """Build the command-line runner (model, input file -> output file), by default with
    AddressSanitizer and UBSan so every load and invoke is memory-checked."""
    suffix = "" if variant == "release" else f"-{variant}"
    output = Path(build_dir) / f"hil_engine_run{suffix}"
    sources = engine_sources() + [RUNNER_SOURCE]
    if not _stale(output, sources + engine_headers() + [Path(__file__)]):
        return output
    output.parent.mkdir(parents=True, exist_ok=True)
    cmd = [_compiler(), *COMMON_FLAGS, *VARIANT_FLAGS[variant], "-o", str(output),
           *map(str, sources), "-lm"]
    return _run(cmd, output, output.with_name(output.name + ".log"))


# --- the engine cross-compiled for Cortex-M4F, run on QEMU's mps2-an386 -------------------

SELFTEST_DIR = REPO_ROOT / "tests" / "engine" / "qemu"
M4_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-Os", "-g",
            "-Wconversion", "-ffunction-sections", "-fdata-sections"]


def build_qemu_selftest(build_dir: Path = REPO_ROOT / "build" / "engine-qemu") -> Path:
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
                             build_dir: Path = REPO_ROOT / "build" / "engine-qemu") -> Path:
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
