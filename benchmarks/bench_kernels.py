#!/usr/bin/env python3
"""Instructions per inference, per op and per committed model, of the portable engine next to
TFLM + CMSIS-NN, in one run, on QEMU netduinoplus2 under `-icount shift=0`.

    .venv/bin/python benchmarks/bench_kernels.py [--tflm-dir DIR] [--models NAME,...]

Both engines are linked with the self-test's semihosting driver (tests/engine/qemu/
engine_selftest.c) built with -DHIL_DRIVER_TIMED=1, and compiled as the firmware compiles them
(engine.mk's flags): it loads the model, runs one warm-up inference and times the next with TIM2
(QEMU clocks it at 1 GHz of virtual time, so under shift=0 one count is one instruction, like
the firmware's INFER cost field). Per-op figures come from prefix models: ops 0..k of the committed model with
op k's output as the graph output; op k costs prefix(k) - prefix(k-1). The full model's figure
is the model itself. The TFLM tree is the user's (`--tflm-dir` or HIL_TFLM_DIR: a tflite-micro
tree with a cortex-m4+fp release library, see firmware/src/engine/README.md); without it the
portable figures are printed and TFLM is reported absent. Each engine's output for the full
model is compared with tflite_micro's on the same input. A model an engine refuses (e.g. 16x8
against an int8-only CMSIS-NN library) is reported and skipped.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "support"))  # engine_support

from engine_support.qemu_selftest import build_engine_driver, tflm_make_vars  # noqa: E402
from engine_support.random_models import random_inputs  # noqa: E402
from harness.engine.host import HostEngine  # noqa: E402
from harness.engine.tflite_builder import BuiltinOp  # noqa: E402
from harness.paths import build_root  # noqa: E402

LINKER_SCRIPT = REPO / "benchmarks" / "kernels" / "netduinoplus2.ld"
# the self-test's driver, timed, with buffers that fit the STM32F405's 128 KiB of RAM
TIMED = ["-DHIL_DRIVER_TIMED=1", "-DHIL_DRIVER_MODEL_CAP=(24u*1024u)", "-DHIL_DRIVER_INPUT_CAP=(4u*1024u)",
         "-DHIL_DRIVER_ARENA_CAP=(88u*1024u)"]
QEMU = "qemu-system-arm"


def committed_models(names: list[str] | None) -> list[Path]:
    paths = sorted(p for p in (REPO / "fixtures" / "models").glob("*.tflite")
                   if not p.name.endswith(".float.tflite"))
    return [p for p in paths if names is None or p.stem in names]


def build(engine: str, build_dir: Path, make_vars: dict[str, str] | None = None) -> Path:
    """The timed driver with ``engine`` as the firmware compiles it (engine.mk's flags for
    ``make_vars``), for netduinoplus2."""
    return build_engine_driver(engine, build_dir / f"bench_{engine}.elf", linker_script=LINKER_SCRIPT,
                               driver_defines=TIMED, make_vars=make_vars)


def _schema():
    """TFLite's generated flatbuffers schema module, loaded from the tensorflow package without
    importing tensorflow itself (which takes seconds)."""
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("bench_kernels: needs the tensorflow package for its schema_py_generated.py "
                         "(pip install tensorflow-cpu)")
    path = Path(list(spec.submodule_search_locations)[0]) / "lite" / "python" / "schema_py_generated.py"
    module_spec = importlib.util.spec_from_file_location("tflite_schema_py_generated", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def prefix_models(model: bytes) -> list[tuple[str, bytes]]:
    """(op name, model of ops 0..k with op k's output as the graph output) for every op k; the
    last one is the model itself."""
    import flatbuffers

    schema = _schema()
    base = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model, 0))
    graph = base.subgraphs[0]
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in base.operatorCodes]
    names = [BuiltinOp(codes[op.opcodeIndex]).name for op in graph.operators]
    out = []
    for k in range(1, len(graph.operators)):
        m = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model, 0))
        g = m.subgraphs[0]
        g.operators = g.operators[:k]
        g.outputs = [int(g.operators[-1].outputs[0])]
        builder = flatbuffers.Builder(len(model) + 1024)
        builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
        out.append((names[k - 1], bytes(builder.Output())))
    out.append((names[-1], model))
    return out


class Refused(Exception):
    """The engine refused the model (or its invoke failed) with this hil_status."""


def oracle_bytes(model: bytes, inputs: list[np.ndarray], output_count: int) -> bytes:
    """The outputs of tflite_micro's interpreter (TFLM's reference kernels on x86), one after
    the other, as the driver writes them."""
    from tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(model, arena_size=max(4 << 20, 10 * len(model)))
    for index, array in enumerate(inputs):
        interpreter.set_input(array, index)
    interpreter.invoke()
    return b"".join(np.array(interpreter.get_output(index)).tobytes() for index in range(output_count))


def run(elf: Path, workdir: Path, model: bytes, inputs: bytes) -> tuple[int, bytes]:
    """(instructions of one warm inference, output bytes) of `elf` on QEMU."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "model.tflite").write_bytes(model)
    (workdir / "input.bin").write_bytes(inputs)
    for name in ("cost.txt", "output.bin"):
        (workdir / name).unlink(missing_ok=True)
    proc = subprocess.run(
        [QEMU, "-M", "netduinoplus2", "-icount", "shift=0", "-nographic", "-monitor", "none",
         "-serial", "none", "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)],
        cwd=workdir, capture_output=True, text=True, timeout=120)
    if 10 <= proc.returncode < 40:  # 10 + the hil_status of a refused load or a failed invoke
        raise Refused(proc.returncode - 10)
    if proc.returncode != 0:
        raise RuntimeError(f"{elf.name} on {workdir.name}: exit {proc.returncode} {proc.stdout}{proc.stderr}")
    return int((workdir / "cost.txt").read_text()), (workdir / "output.bin").read_bytes()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tflm-dir", default=os.environ.get("HIL_TFLM_DIR"),
                        help="tflite-micro tree with a built cortex-m4+fp library (default: $HIL_TFLM_DIR)")
    parser.add_argument("--models", help="comma-separated committed model names (default: all)")
    parser.add_argument("--tflm-int16", action="store_true",
                        help="register TFLM's int8+int16 kernels (engine.mk's TFLM_INT16=1), so 16x8 models run")
    args = parser.parse_args()
    for tool in (QEMU, "arm-none-eabi-gcc"):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench_kernels: {tool} not on PATH (apt-get install qemu-system-arm gcc-arm-none-eabi)")
    build_dir = build_root() / "bench-kernels"
    build_dir.mkdir(parents=True, exist_ok=True)
    elfs = {"portable": build("portable", build_dir)}
    if args.tflm_dir:
        elfs["tflm"] = build("tflm", build_dir, tflm_make_vars(Path(args.tflm_dir), int16=args.tflm_int16))
    else:
        print("TFLM absent: no --tflm-dir or HIL_TFLM_DIR; portable figures only")
    models = committed_models(args.models.split(",") if args.models else None)
    per_op_type: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in models:
            model = path.read_bytes()
            try:
                engine = HostEngine(model)
            except Exception as exc:  # a model the host engine refuses (e.g. a dtype it lacks)
                print(f"\n{path.stem}: skipped, the portable engine refuses it: {exc}")
                continue
            rng = np.random.default_rng(0)
            arrays = [random_inputs(rng, i.dtype, i.shape) for i in engine.inputs]
            inputs = b"".join(a.tobytes() for a in arrays)
            expected = oracle_bytes(model, arrays, len(engine.outputs))
            costs: dict[str, list[int]] = {}
            outputs: dict[str, bytes] = {}
            prefixes = prefix_models(model)
            for name, elf in list(elfs.items()):
                costs[name] = []
                try:
                    for k, (_, prefix) in enumerate(prefixes):
                        cost, output = run(elf, Path(tmp) / f"{name}-{path.stem}-{k}", prefix, inputs)
                        costs[name].append(cost)
                except Refused as exc:
                    print(f"\n{path.stem}: {name} refuses it (hil_status {exc.args[0]}); skipped")
                    break
                outputs[name] = output
            complete = all(name in outputs for name in elfs)  # per-kernel sums only where all ran
            print(f"\n{path.stem}  (instructions per inference, QEMU -icount shift=0)")
            print(f"  {'op':>3s} {'kernel':18s} {'portable':>10s}" + (f" {'tflm':>10s} {'ratio':>6s}" if "tflm" in outputs else ""))
            for k, (op_name, _) in enumerate(prefixes):
                row = {}
                for name in outputs:
                    row[name] = costs[name][k] - (costs[name][k - 1] if k else 0)
                    if complete:
                        per_op_type[op_name][name] += row[name]
                line = f"  {k:3d} {op_name:18s} {row['portable']:10d}"
                if "tflm" in outputs:
                    line += f" {row['tflm']:10d} {row['portable'] / max(row['tflm'], 1):6.2f}"
                print(line)
            full = {name: costs[name][-1] for name in outputs}
            line = f"  {'':3s} {'total':18s} {full['portable']:10d}"
            if "tflm" in outputs:
                line += f" {full['tflm']:10d} {full['portable'] / full['tflm']:6.2f}"
            verdicts = ", ".join(f"{name} {'=' if out == expected else 'DIFFERS FROM'} tflite_micro"
                                 for name, out in outputs.items())
            print(f"{line}  outputs: {verdicts}")
            totals.append((path.stem, full))
    print("\nper kernel, summed over the models every engine ran")
    print(f"  {'kernel':18s} {'portable':>10s}" + (f" {'tflm':>10s} {'ratio':>6s}" if "tflm" in elfs else ""))
    for op_name, row in sorted(per_op_type.items(), key=lambda kv: -kv[1]["portable"]):
        line = f"  {op_name:18s} {row['portable']:10d}"
        if "tflm" in elfs:
            line += f" {row['tflm']:10d} {row['portable'] / max(row['tflm'], 1):6.2f}"
        print(line)
    print("\nper model")
    for stem, full in totals:
        line = f"  {stem:18s} portable {full['portable'] / 1e6:6.3f} M"
        if "tflm" in full:
            line += f"  tflm {full['tflm'] / 1e6:6.3f} M  ratio {full['portable'] / full['tflm']:.2f}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
