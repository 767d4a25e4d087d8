"""The engine on QEMU through the semihosting driver (tests/engine/qemu/engine_selftest.c): the
self-test of tests/engine/ (mps2-an386), linked with the portable engine or with the tflm
adapter and the user's TFLM library, and the kernel benchmark's timed build of the same driver
(benchmarks/bench_kernels.py, netduinoplus2).

The engine is compiled with the firmware's flags, taken from the firmware's own make
(`make -C firmware ENGINE=... print-engine-flags`, engine.mk): the sources, -DNDEBUG, the
CMSIS-NN and int16 defines, the include roots and the library are the ones the firmware gets,
so the self-test runs the build that ships.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from engine_support import REPO_ROOT
from harness.engine.build import compile_atomically
from harness.errors import BuildError, ToolMissingError
from harness.paths import FIRMWARE_DIR, build_root

SELFTEST_DIR = REPO_ROOT / "tests" / "engine" / "qemu"
DRIVER = SELFTEST_DIR / "engine_selftest.c"
MPS2_LINKER_SCRIPT = SELFTEST_DIR / "mps2_an386.ld"
DEFAULT_BUILD_DIR = build_root() / "engine-qemu"
LINK_FLAGS = ["-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections"]
MAKE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class EngineBuildFlags:
    """What the firmware compiles an engine with (engine.mk's print-engine-flags)."""

    cc: str
    cxx: str
    c_sources: list[Path]
    cxx_sources: list[Path]
    cflags: list[str]       # for the C sources (and the driver)
    cxxflags: list[str]     # for the C++ sources
    arch_flags: list[str]   # -mcpu, -mfloat-abi ...: the link's
    ldlibs: list[str]


def engine_build_flags(engine: str, make_vars: Mapping[str, str] | None = None,
                       build_dir: Path = DEFAULT_BUILD_DIR) -> EngineBuildFlags:
    """The firmware's sources and flags for ``engine`` with ``make_vars`` (TFLM_DIR=...,
    TFLM_INT16=1, ...), as the firmware's make has them. BuildError with make's message (e.g.
    no library under TFLM_DIR) when it refuses the configuration."""
    make = shutil.which("make")
    if make is None:
        raise ToolMissingError("make", "make")
    cmd = [make, "-s", "--no-print-directory", "-C", str(FIRMWARE_DIR), f"ENGINE={engine}",
           f"BUILD_DIR={Path(build_dir).resolve()}", *(f"{k}={v}" for k, v in (make_vars or {}).items()),
           "print-engine-flags"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=MAKE_TIMEOUT_S)
    if proc.returncode != 0:
        raise BuildError(f"{shlex.join(cmd)} failed (exit {proc.returncode}): {proc.stderr.strip()}")
    values = {}
    for line in proc.stdout.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.startswith("HIL_ENGINE_"):
            values[name.removeprefix("HIL_ENGINE_")] = shlex.split(value)  # as sh splits make's recipes
    missing = {"CC", "CXX", "C_SRCS", "CXX_SRCS", "CFLAGS", "CXXFLAGS", "ARCH_FLAGS", "LDLIBS"} - set(values)
    if missing:
        raise BuildError(f"{shlex.join(cmd)} printed no {', '.join(sorted(missing))}: {proc.stdout!r}")
    return EngineBuildFlags(cc=values["CC"][0], cxx=values["CXX"][0], c_sources=[Path(s) for s in values["C_SRCS"]],
                            cxx_sources=[Path(s) for s in values["CXX_SRCS"]], cflags=values["CFLAGS"],
                            cxxflags=values["CXXFLAGS"], arch_flags=values["ARCH_FLAGS"], ldlibs=values["LDLIBS"])


def compile_commands(flags: EngineBuildFlags, obj_dir: Path, driver_defines: Sequence[str] = ()) -> dict[str, list[str]]:
    """source path -> the compiler command of its object: the engine's sources with the
    firmware's flags, the driver with the firmware's C flags and ``driver_defines``."""
    commands = {}
    for source in flags.c_sources:
        commands[str(source)] = [flags.cc, *flags.cflags, "-c", str(source)]
    for source in flags.cxx_sources:
        commands[str(source)] = [flags.cxx, *flags.cxxflags, "-c", str(source)]
    commands[str(DRIVER)] = [flags.cc, *flags.cflags, *driver_defines, "-c", str(DRIVER)]
    return {source: [*cmd, "-o", str(obj_dir / f"{Path(source).name}.o")] for source, cmd in commands.items()}


def _inputs(flags: EngineBuildFlags, linker_script: Path) -> list[Path]:
    headers = [*(FIRMWARE_DIR / "include").rglob("*.h"), *(FIRMWARE_DIR / "agent" / "include").rglob("*.h"),
               *(FIRMWARE_DIR / "src" / "engine").rglob("*.h")]
    libraries = [Path(lib) for lib in flags.ldlibs if lib.endswith(".a")]
    return [*flags.c_sources, *flags.cxx_sources, DRIVER, linker_script, *headers, *libraries]


def build_engine_driver(engine: str, output: Path, linker_script: Path = MPS2_LINKER_SCRIPT,
                        driver_defines: Sequence[str] = (), make_vars: Mapping[str, str] | None = None) -> Path:
    """The driver linked with ``engine`` built with the firmware's flags (``make_vars`` as for
    the firmware), into ``output``. Rebuilt only when a command, a source, a header or the
    library changed; the commands are kept in <output>.commands.json."""
    output = Path(output)
    obj_dir = output.parent / f"{output.stem}-obj"
    obj_dir.mkdir(parents=True, exist_ok=True)
    flags = engine_build_flags(engine, make_vars, build_dir=obj_dir)
    linker = flags.cxx if flags.cxx_sources else flags.cc
    for tool in {flags.cc, linker}:
        if shutil.which(tool) is None:
            raise ToolMissingError(tool, "gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib")
    commands = compile_commands(flags, obj_dir, driver_defines)
    objects = [cmd[-1] for cmd in commands.values()]
    link = [linker, *flags.arch_flags, "-o", str(output), *objects, *flags.ldlibs, *LINK_FLAGS,
            *(["--specs=nosys.specs"] if flags.cxx_sources else []), f"-T{linker_script}", "-lm"]
    record = json.dumps({"compile": commands, "link": link}, indent=1)
    stamp = output.with_name(output.name + ".commands.json")
    inputs = _inputs(flags, Path(linker_script))
    if output.is_file() and stamp.is_file() and stamp.read_text() == record and \
            output.stat().st_mtime >= max(p.stat().st_mtime for p in inputs):
        return output
    stamp.unlink(missing_ok=True)
    with ThreadPoolExecutor() as pool:
        for done in pool.map(lambda cmd: compile_atomically(cmd, Path(cmd[-1]), Path(cmd[-1]).with_suffix(".log")),
                             commands.values()):
            assert done.is_file()
    compile_atomically(link, output, output.with_suffix(".log"))
    stamp.write_text(record)
    return output


def build_qemu_selftest(build_dir: Path = DEFAULT_BUILD_DIR, make_vars: Mapping[str, str] | None = None) -> Path:
    """Bare-metal ELF for qemu-system-arm -M mps2-an386: the portable engine as the firmware
    compiles it (``make_vars``, e.g. ENGINE_INT16=0) plus the semihosting driver."""
    return build_engine_driver("portable", Path(build_dir) / "engine_selftest.elf", make_vars=make_vars)


def tflm_make_vars(tflm_dir: Path, release: bool = True, int16: bool = False) -> dict[str, str]:
    """engine.mk's variables for a TFLM tree (TFLM_INT16=1: the library's int8+int16 kernels)."""
    return {"TFLM_DIR": str(Path(tflm_dir).resolve()), "TFLM_RELEASE": "1" if release else "0",
            "TFLM_INT16": "1" if int16 else "0"}


def build_qemu_selftest_tflm(tflm_dir: Path, release: bool = True, int16: bool = False,
                             build_dir: Path = DEFAULT_BUILD_DIR) -> Path:
    """The same self-test linked with the tflm adapter and the user's TFLM library, as the
    firmware builds them with TFLM_DIR=``tflm_dir`` (and TFLM_INT16=1 when ``int16``)."""
    name = "engine_selftest_tflm_int16.elf" if int16 else "engine_selftest_tflm.elf"
    return build_engine_driver("tflm", Path(build_dir) / "tflm" / name,
                               make_vars=tflm_make_vars(tflm_dir, release, int16))
