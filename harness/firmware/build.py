"""Build the firmware image (arm-none-eabi, through ``make -C firmware``) and the host build of
its C codec (a shared library the tests drive through ctypes).

make decides what is up to date (dependency files, a flags stamp), so calling
:func:`build_firmware` again is cheap and reuses the previous build.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import BuildError, ConfigError, ToolMissingError
from harness.file_lock import FileLock
from harness.paths import FIRMWARE_DIR, build_root

log = logging.getLogger(__name__)

ENGINES = ("none", "portable", "tflm")
CROSS_GCC = "arm-none-eabi-gcc"
CROSS_SIZE = "arm-none-eabi-size"
CROSS_PACKAGE = "gcc-arm-none-eabi"

# The host library: the codec and the ring, nothing that touches hardware.
HOST_SOURCES = ("agent/src/link/cobs.c", "agent/src/link/crc32.c", "agent/src/link/frame.c", "agent/src/ring.c")
HOST_INCLUDES = ("include", "agent/include")
HOST_WARNINGS = ("-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wmissing-prototypes",
                 "-Wstrict-prototypes", "-Wconversion")
SANITIZERS = ("address", "undefined")
LOG_TAIL_LINES = 25


@dataclass(frozen=True)
class FirmwareImage:
    """A built firmware: where its files are and how much flash and RAM it takes."""

    elf: Path
    board: str
    engine: str
    build_id: str
    build_dir: Path
    text_bytes: int   # code and constants (flash)
    data_bytes: int   # initialised data (flash for its image, RAM at run time)
    bss_bytes: int    # zeroed data and the stack (RAM)
    size_report: str  # arm-none-eabi-size -A output
    sections: dict[str, int] = field(default_factory=dict)

    @property
    def flash_bytes(self) -> int:
        return self.text_bytes + self.data_bytes

    @property
    def ram_bytes(self) -> int:
        return self.data_bytes + self.bss_bytes

    @property
    def bin(self) -> Path:
        return self.build_dir / "firmware.bin"

    @property
    def hex(self) -> Path:
        return self.build_dir / "firmware.hex"


def list_boards() -> list[str]:
    """Board folders under firmware/boards that carry a board.mk."""
    return sorted(p.parent.name for p in (FIRMWARE_DIR / "boards").glob("*/board.mk"))


def default_build_dir(board: str, engine: str) -> Path:
    """build/firmware/<board>-<engine> in a checkout, the cache folder when installed (harness.paths)."""
    return build_root() / "firmware" / f"{board}-{engine}"


def _require_tool(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise ToolMissingError(tool, package)
    return path


def _tail(text: str, lines: int = LOG_TAIL_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _hint(output: str) -> str:
    # the cross compiler without newlib fails at link time with these; name the package
    if re.search(r"nano\.specs|cannot find -lc|stdint\.h: No such file", output):
        return " (is 'libnewlib-arm-none-eabi' installed?)"
    return ""


def _run_logged(cmd: Sequence[str], log_path: Path, timeout_s: float, what: str,
                cwd: Path | None = None) -> str:
    """Runs cmd, writes its combined output to log_path, raises BuildError on failure."""
    log.debug("running %s", " ".join(cmd))
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as e:
        output = e.output.decode(errors="replace") if isinstance(e.output, bytes) else (e.output or "")
        log_path.write_text(output)
        raise BuildError(f"{what} timed out after {timeout_s:.0f} s", str(log_path)) from e
    log_path.write_text(f"$ {' '.join(cmd)}\n{proc.stdout}")
    if proc.returncode != 0:
        raise BuildError(f"{what} failed (exit {proc.returncode}){_hint(proc.stdout)}; last lines:\n"
                         f"{_tail(proc.stdout)}\n", str(log_path))
    return proc.stdout


def _read_sizes(elf: Path, log_path: Path) -> tuple[str, dict[str, int], int, int, int]:
    """arm-none-eabi-size: the -A report, its sections, and Berkeley text/data/bss."""
    size_tool = _require_tool(CROSS_SIZE, "binutils-arm-none-eabi")
    report = _run_logged([size_tool, "-A", str(elf)], log_path, 30.0, "arm-none-eabi-size -A")
    sections = {}
    for line in report.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith(".") and parts[1].isdigit():
            sections[parts[0]] = int(parts[1])
    berkeley = _run_logged([size_tool, "-B", str(elf)], log_path, 30.0, "arm-none-eabi-size -B")
    numbers = berkeley.splitlines()[-1].split()
    try:
        text, data, bss = (int(n) for n in numbers[:3])
    except ValueError as e:
        raise BuildError(f"cannot parse arm-none-eabi-size output: {berkeley!r}", str(log_path)) from e
    return report.strip(), sections, text, data, bss


TFLM_DIR_ENV = ("HIL_TFLM_DIR", "TFLM_DIR")


def engine_make_vars(engine: str, tflm_dir: str | None) -> dict[str, str]:
    """The firmware's make variables for ``engine``: TFLM_DIR from ``tflm_dir`` (``--tflm-dir``,
    ``--hil-tflm-dir``) or the environment for tflm. ConfigError when a tflm build has no tree,
    or a tree is given for another engine."""
    if engine != "tflm":
        if tflm_dir:
            raise ConfigError(f"--tflm-dir applies to --engine tflm only, not '{engine}'")
        return {}
    tree = tflm_dir or next((os.environ[name] for name in TFLM_DIR_ENV if os.environ.get(name)), None)
    if not tree:
        raise ConfigError(f"--engine tflm needs --tflm-dir DIR (or {' or '.join(TFLM_DIR_ENV)} in the environment): "
                          "a TFLite Micro tree with its built library (pytest: --hil-tflm-dir DIR; "
                          "see firmware/src/engine/README.md)")
    return {"TFLM_DIR": tree}


def build_firmware(board: str = "netduinoplus2", engine: str = "none",
                   build_dir: str | os.PathLike | None = None, jobs: int | None = None,
                   extra_make_vars: Mapping[str, str] | None = None,
                   timeout_s: float = 600.0) -> FirmwareImage:
    """Builds (or finds up to date) the firmware for ``board`` with ``engine``.

    Raises ToolMissingError when make or the cross compiler is missing, ConfigError for an
    unknown board or engine, BuildError (with the log path) when the build fails.
    """
    if not (FIRMWARE_DIR / "Makefile").is_file():
        raise ConfigError(f"no firmware sources at {FIRMWARE_DIR}: this install of the harness lacks its "
                          "package data; reinstall from a wheel built from the repository (pip install PATH)")
    if board not in list_boards():
        raise ConfigError(f"unknown board '{board}'; boards: {', '.join(list_boards())}")
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine '{engine}'; engines: {', '.join(ENGINES)}")
    make = _require_tool("make", "make")
    _require_tool(CROSS_GCC, CROSS_PACKAGE)
    out_dir = Path(build_dir).resolve() if build_dir is not None else default_build_dir(board, engine)
    out_dir.mkdir(parents=True, exist_ok=True)

    cmd = [make, "-C", str(FIRMWARE_DIR), f"BOARD={board}", f"ENGINE={engine}", f"BUILD_DIR={out_dir}",
           f"-j{jobs if jobs else (os.cpu_count() or 1)}"]
    for name, value in (extra_make_vars or {}).items():
        if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", name):
            raise ConfigError(f"make variable name '{name}' is not an upper-case identifier")
        cmd.append(f"{name}={value}")
    log_path = out_dir / "build.log"
    # one make in a folder at a time (two hil processes, two test workers), and the image read
    # while no other make can rewrite it
    with FileLock(out_dir / ".build.lock").acquire(timeout_s):
        _run_logged(cmd, log_path, timeout_s, f"firmware build for {board}/{engine}")
        elf = out_dir / "firmware.elf"
        id_file = out_dir / "build_id.txt"
        if not elf.is_file() or not id_file.is_file():
            raise BuildError(f"make succeeded but {elf} or {id_file} is missing", str(log_path))
        build_id = id_file.read_text().strip()
        report, sections, text, data, bss = _read_sizes(elf, out_dir / "size.log")
    image = FirmwareImage(elf=elf, board=board, engine=engine, build_id=build_id,
                          build_dir=out_dir, text_bytes=text, data_bytes=data, bss_bytes=bss,
                          size_report=report, sections=sections)
    log.info("firmware %s: flash %d B, RAM %d B, build id %s", elf, image.flash_bytes, image.ram_bytes,
             image.build_id)
    return image


def image_from_elf(elf: str | os.PathLike, board: str = "netduinoplus2") -> FirmwareImage:
    """A FirmwareImage for an ELF built elsewhere (a team's own application): its sizes from
    arm-none-eabi-size; its build id is the ELF's sha256 (the device's INFO says its own)."""
    import hashlib
    elf = Path(elf).resolve()
    if not elf.is_file():
        raise ConfigError(f"firmware {elf} does not exist")
    if elf.read_bytes()[:4] != b"\x7fELF":
        raise ConfigError(f"firmware {elf} is not an ELF file")
    _require_tool(CROSS_GCC, CROSS_PACKAGE)
    report, sections, text, data, bss = _read_sizes(elf, Path(os.devnull))
    return FirmwareImage(elf=elf, board=board, engine="external",
                         build_id="elf-" + hashlib.sha256(elf.read_bytes()).hexdigest()[:12], build_dir=elf.parent,
                         text_bytes=text, data_bytes=data, bss_bytes=bss, size_report=report, sections=sections)


def _host_library_path(name: str, sanitize: Sequence[str], build_dir: Path) -> Path:
    suffix = "".join(f"-{s}" for s in sanitize)
    return build_dir / f"lib{name}{suffix}.so"


def build_host_library(name: str = "hilcodec", sanitize: Sequence[str] = (),
                       build_dir: str | os.PathLike | None = None, cc: str | None = None,
                       timeout_s: float = 120.0) -> Path:
    """Compiles the firmware's codec and ring for the host into ``<build root>/host/lib<name>.so``.

    ``sanitize`` takes "address" and/or "undefined" (the file name then says so). A library
    built with "address" can only be loaded into a process that preloads libasan
    (LD_PRELOAD=$(gcc -print-file-name=libasan.so)); "undefined" loads anywhere.
    Rebuilds only when a source, a header or the flags changed.
    """
    unknown = [s for s in sanitize if s not in SANITIZERS]
    if unknown:
        raise ConfigError(f"unknown sanitizer(s) {unknown}; choose from {SANITIZERS}")
    compiler = cc or os.environ.get("CC") or "cc"
    compiler_path = _require_tool(compiler, "gcc")
    out_dir = Path(build_dir).resolve() if build_dir is not None else build_root() / "host"
    out_dir.mkdir(parents=True, exist_ok=True)
    output = _host_library_path(name, sanitize, out_dir)

    sources = [FIRMWARE_DIR / s for s in HOST_SOURCES]
    flags = ["-std=c11", "-O1", "-g", "-fPIC", "-shared", *HOST_WARNINGS,
             *(f"-I{FIRMWARE_DIR / include}" for include in HOST_INCLUDES)]
    if sanitize:
        flags += [f"-fsanitize={','.join(sanitize)}", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
    cmd = [compiler_path, *flags, *map(str, sources), "-o"]

    stamp = output.with_suffix(".flags")
    stamp_text = " ".join(cmd)
    inputs = sources + [h for include in HOST_INCLUDES for h in (FIRMWARE_DIR / include).rglob("*.h")] + \
        list((FIRMWARE_DIR / "agent" / "src").rglob("*.h"))
    if output.is_file() and stamp.is_file() and stamp.read_text() == stamp_text:
        newest_input = max(p.stat().st_mtime for p in inputs)
        if output.stat().st_mtime >= newest_input:
            return output

    # build beside, then rename: a concurrent loader never sees a half-written library
    partial = output.with_name(output.name + f".{os.getpid()}.tmp")
    try:
        _run_logged([*cmd, str(partial)], out_dir / f"lib{name}.log", timeout_s, f"host build of lib{name}")
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    stamp.write_text(stamp_text)
    return output
