"""Engine footprint and host speed: arena bytes, model bytes and microseconds per inference of
the portable engine (host build) next to the tflite_micro oracle, for the committed models and
a few random ones; plus the engine's Cortex-M4F code size.

    python benchmarks/bench_engine.py [--random N] [--repeat R]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))  # engine_support

from engine_support.random_models import random_inputs, random_model  # noqa: E402
from harness.engine.build import COMMON_FLAGS, M4_FLAGS, engine_sources  # noqa: E402
from harness.engine.host import HostEngine  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def per_call_us(fn, repeat: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat * 1e6


def m4_text_bytes() -> int | None:
    if shutil.which("arm-none-eabi-gcc") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        objects = []
        for source in engine_sources():
            obj = Path(tmp) / (source.stem + ".o")
            subprocess.run(["arm-none-eabi-gcc", *COMMON_FLAGS, *M4_FLAGS, "-c", str(source), "-o", str(obj)],
                           check=True)
            objects.append(str(obj))
        out = subprocess.run(["arm-none-eabi-size", "-t", *objects], check=True, capture_output=True,
                             text=True).stdout.strip().splitlines()[-1]
        return int(out.split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=5, help="random models to include")
    parser.add_argument("--repeat", type=int, default=200, help="invocations timed per model")
    args = parser.parse_args()
    from tflite_micro import runtime

    models = [(p.name, p.read_bytes()) for p in sorted((REPO / "fixtures" / "models").glob("*.tflite"))]
    models += [(random_model(seed).name, random_model(seed).model) for seed in range(args.random)]
    print(f"{'model':60s} {'bytes':>7s} {'arena':>7s} {'engine us':>10s} {'oracle us':>10s}")
    for name, model in models:
        engine = HostEngine(model, arena_size=2 << 20)
        rng = np.random.default_rng(0)
        inputs = [random_inputs(rng, i.dtype, i.shape) for i in engine.inputs]
        engine.invoke_all(inputs)
        oracle = runtime.Interpreter.from_bytes(model, arena_size=4 << 20)
        for index, array in enumerate(inputs):
            oracle.set_input(array, index)
        print(f"{name[:60]:60s} {len(model):7d} {engine.arena_used:7d} "
              f"{per_call_us(engine.run, args.repeat):10.1f} "
              f"{per_call_us(oracle.invoke, args.repeat):10.1f}")
    text = m4_text_bytes()
    if text is not None:
        print(f"portable engine, Cortex-M4F -Os text: {text} bytes (objects only; libgcc soft-double and "
              "libm frexp/round/roundf come on top)")


if __name__ == "__main__":
    main()
