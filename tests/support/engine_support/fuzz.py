"""libFuzzer builds and bounded runs of the firmware's parsers on the host.

Targets live in firmware/tests/fuzz/; they are built with clang's
-fsanitize=fuzzer,address,undefined into <build root>/host/fuzz/. A run is seeded with a corpus
generated here (random models for the model reader, valid frames for the frame decoder), stops
after a wall-clock budget, and reports executions, exec/s and any crash artifacts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from engine_support import REPO_ROOT
from harness.engine.build import DEFAULT_BUILD_DIR, INCLUDE_DIR, engine_sources, is_stale
from harness.errors import BuildError, ToolMissingError
from harness.paths import FIRMWARE_DIR

FUZZ_SOURCE_DIR = REPO_ROOT / "firmware" / "tests" / "fuzz"
LINK_DIR = FIRMWARE_DIR / "agent" / "src" / "link"
REGRESSION_DIR = REPO_ROOT / "tests" / "fuzz" / "regressions"
FUZZ_FLAGS = ["-g", "-O1", "-std=c11", "-fsanitize=fuzzer,address,undefined",
              "-fno-sanitize-recover=all", "-ffp-contract=off", f"-I{INCLUDE_DIR}",
              f"-I{FIRMWARE_DIR / 'agent' / 'include'}"]


@dataclass(frozen=True)
class FuzzTarget:
    name: str
    sources: tuple[Path, ...]
    max_len: int


def targets() -> dict[str, FuzzTarget]:
    link_sources = tuple(sorted(LINK_DIR.glob("*.c")))
    return {
        "fuzz_model_reader": FuzzTarget(
            "fuzz_model_reader",
            (FUZZ_SOURCE_DIR / "fuzz_model_reader.c", *engine_sources()), 16384),
        "fuzz_frame_decoder": FuzzTarget(
            "fuzz_frame_decoder", (FUZZ_SOURCE_DIR / "fuzz_frame_decoder.c", *link_sources), 1024),
    }


@dataclass
class FuzzResult:
    target: str
    exit_code: int
    seconds: float
    executions: int
    exec_per_sec: int
    artifacts: list[Path] = field(default_factory=list)
    log_path: Path | None = None

    @property
    def crashed(self) -> bool:
        return self.exit_code != 0 or bool(self.artifacts)


def _clang() -> str:
    cc = os.environ.get("HIL_FUZZ_CC", "clang")
    if shutil.which(cc) is None:
        raise ToolMissingError(cc, "clang")
    return cc


def build_target(name: str, build_dir: Path = DEFAULT_BUILD_DIR / "fuzz") -> Path:
    target = targets()[name]
    output = Path(build_dir) / name
    headers = sorted(INCLUDE_DIR.glob("hil/*.h")) + sorted((FIRMWARE_DIR / "src").rglob("*.h"))
    if not is_stale(output, list(target.sources) + headers + [Path(__file__)]):
        return output
    output.parent.mkdir(parents=True, exist_ok=True)
    cmd = [_clang(), *FUZZ_FLAGS, "-o", str(output), *map(str, target.sources), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    log = output.with_name(name + ".build.log")
    log.write_text(" ".join(cmd) + "\n" + proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise BuildError(f"libFuzzer build of {name} failed (exit {proc.returncode})", str(log))
    return output


def write_model_corpus(directory: Path, seeds: range, sixteen_by_eight: bool = False) -> list[Path]:
    """Random models (engine_support.random_models) as seed inputs for the model reader; with
    `sixteen_by_eight`, 16x8 ones (int16 activations, int64 biases, int16 softmax LUTs)."""
    from engine_support.random_models import random_model
    from engine_support.random_models_16x8 import random_model_16x8

    directory.mkdir(parents=True, exist_ok=True)
    make, prefix = (random_model_16x8, "model16x8") if sixteen_by_eight else (random_model, "model")
    paths = []
    for seed in seeds:
        path = directory / f"{prefix}_seed{seed}.tflite"
        if not path.exists():
            path.write_bytes(make(seed).model)
        paths.append(path)
    return paths


def write_frame_corpus(directory: Path) -> list[Path]:
    """Valid wire frames of several sizes and types for the frame decoder."""
    from harness.link.frame import Frame, encode_frame

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, size in enumerate([0, 1, 7, 64, 253, 254, 255, 256]):
        wire = encode_frame(Frame(type=1 + i, seq=i * 257, payload=bytes((i * 31 + k) & 0xFF for k in range(size))))
        path = directory / f"frame{i}.bin"
        path.write_bytes(wire + wire[: len(wire) // 2])
        paths.append(path)
    return paths


_STAT = re.compile(r"stat::(\w+):\s+(\d+)")


def run(name: str, seconds: float, corpus_dirs: list[Path], work_dir: Path) -> FuzzResult:
    """Fuzz `name` for `seconds` of wall time. The first corpus dir collects new inputs."""
    binary = build_target(name)
    target = targets()[name]
    artifacts_dir = work_dir / "artifacts"
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    for d in corpus_dirs:
        d.mkdir(parents=True, exist_ok=True)
    log = work_dir / f"{name}.log"
    cmd = [str(binary), f"-max_total_time={max(1, int(seconds))}", f"-max_len={target.max_len}",
           "-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1",
           f"-artifact_prefix={artifacts_dir}/", *map(str, corpus_dirs)]
    before = set(artifacts_dir.iterdir())
    with open(log, "w") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, timeout=seconds + 120)
    text = log.read_text(errors="replace")
    stats = {k: int(v) for k, v in _STAT.findall(text)}
    artifacts = sorted(set(artifacts_dir.iterdir()) - before)
    return FuzzResult(name, proc.returncode, seconds, stats.get("number_of_executed_units", 0),
                      stats.get("average_exec_per_sec", 0), artifacts, log)


def replay(name: str, inputs: list[Path]) -> subprocess.CompletedProcess:
    """Run the target once over each file (libFuzzer's replay mode); exit 0 means no crash."""
    binary = build_target(name)
    return subprocess.run([str(binary), *map(str, inputs)], capture_output=True, text=True, timeout=300)


def regression_inputs(name: str) -> list[Path]:
    directory = REGRESSION_DIR / name
    return sorted(p for p in directory.glob("*") if p.is_file() and p.suffix != ".md")
