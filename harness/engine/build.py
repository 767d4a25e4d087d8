"""Host builds of the portable inference engine: a shared library for ctypes tests and an
AddressSanitizer/UBSan runner executable, both under <build root>/host/ (harness.paths).

Rebuilt only when a source is newer than the output; each build's compiler output is kept in a
log file named in the BuildError.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from harness.errors import BuildError, ToolMissingError
from harness.paths import FIRMWARE_DIR, build_root

ENGINE_DIR = FIRMWARE_DIR / "src" / "engine"
INCLUDE_DIR = FIRMWARE_DIR / "include"
# the agent's headers: the engine's model reader takes the little-endian readers from hil/le.h
AGENT_INCLUDE_DIR = FIRMWARE_DIR / "agent" / "include"
RUNNER_SOURCE = Path(__file__).resolve().parent / "c" / "engine_run.c"
DEFAULT_BUILD_DIR = build_root() / "host"

# Warnings are the firmware's; -ffp-contract=off keeps float expressions exactly as written
# (no fused multiply-add), which bit-exactness with TFLM relies on.
COMMON_FLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wmissing-prototypes",
                "-Wstrict-prototypes", "-ffp-contract=off", f"-I{INCLUDE_DIR}", f"-I{AGENT_INCLUDE_DIR}"]
VARIANT_FLAGS = {
    "release": ["-O2"],
    "asan": ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
             "-fno-sanitize-recover=all"],
}


def engine_sources() -> list[Path]:
    """C sources of the portable engine (what engine.mk compiles for ENGINE=portable)."""
    return sorted((ENGINE_DIR / "portable").glob("*.c")) + [ENGINE_DIR / "hil_status.c"]


def engine_headers() -> list[Path]:
    return sorted((ENGINE_DIR / "portable").glob("*.h")) + [INCLUDE_DIR / "hil" / "engine.h",
                                                              AGENT_INCLUDE_DIR / "hil" / "le.h"]


def _compiler() -> str:
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        raise ToolMissingError(cc, "gcc")
    return cc


def is_stale(output: Path, inputs: list[Path]) -> bool:
    """True when ``output`` is missing or older than any of ``inputs``."""
    if not output.exists():
        return True
    built = output.stat().st_mtime
    return any(p.stat().st_mtime > built for p in inputs)


def compile_atomically(cmd: list[str], output: Path, log: Path) -> Path:
    """Runs the compiler ``cmd`` (which names ``output`` after ``-o``) into a file beside
    ``output``, then renames it: a concurrent loader (another test
    worker, another process) never sees a half-written library or runner."""
    log.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f"{output.name}.{os.getpid()}.tmp")
    cmd = [str(partial) if arg == str(output) else arg for arg in cmd]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
        log.write_text(" ".join(cmd) + "\n" + proc.stdout + proc.stderr)
        if proc.returncode != 0:
            raise BuildError(f"host build of {output.name} failed (exit {proc.returncode})", str(log))
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return output


def build_library(variant: str = "release", build_dir: Path = DEFAULT_BUILD_DIR) -> Path:
    """Build libhil_engine[-asan].so; returns its path."""
    if variant not in VARIANT_FLAGS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {sorted(VARIANT_FLAGS)}")
    suffix = "" if variant == "release" else f"-{variant}"
    output = Path(build_dir) / f"libhil_engine{suffix}.so"
    sources = engine_sources()
    if not is_stale(output, sources + engine_headers() + [Path(__file__)]):
        return output
    output.parent.mkdir(parents=True, exist_ok=True)
    cmd = [_compiler(), *COMMON_FLAGS, *VARIANT_FLAGS[variant], "-fPIC", "-shared",
           "-o", str(output), *map(str, sources), "-lm"]
    return compile_atomically(cmd, output, output.with_suffix(".log"))


def build_runner(variant: str = "asan", build_dir: Path = DEFAULT_BUILD_DIR) -> Path:
    """Build the command-line runner (model, input file -> output file), by default with
    AddressSanitizer and UBSan so every load and invoke is memory-checked."""
    suffix = "" if variant == "release" else f"-{variant}"
    output = Path(build_dir) / f"hil_engine_run{suffix}"
    sources = engine_sources() + [RUNNER_SOURCE]
    if not is_stale(output, sources + engine_headers() + [Path(__file__)]):
        return output
    output.parent.mkdir(parents=True, exist_ok=True)
    cmd = [_compiler(), *COMMON_FLAGS, *VARIANT_FLAGS[variant], "-o", str(output),
           *map(str, sources), "-lm"]
    return compile_atomically(cmd, output, output.with_name(output.name + ".log"))


# The firmware's Cortex-M4F flags (benchmarks and the QEMU self-test in tests/support/engine_support
# compile the engine with them).
M4_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-Os", "-g",
            "-Wconversion", "-ffunction-sections", "-fdata-sections"]
