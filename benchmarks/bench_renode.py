#!/usr/bin/env python3
"""Renode against QEMU, same run: boot, ECHO both ways, windows/s and instructions per inference.

    HIL_RENODE=/path/to/renode .venv/bin/python benchmarks/bench_renode.py [--windows 64] [--echoes 32]

Targets, one after the other (never two emulators at once): qemu/netduinoplus2 (-icount
shift=0), renode/netduinoplus2 (Renode's stm32f4), renode/nrf52840 (Renode only). For each:
  boot_s          start() to the BOOT frame (process start, Renode's monitor and script included)
  h2d / d2h kB/s  ECHO of 2048-byte payloads: request written -> first reply byte, and the reply
  per model       windows/s (INFER_WINDOW round trips, depth 1, after a warm-up), the device's
                  own cost per inference (board_cost_counter around invoke: QEMU TIM2 under
                  icount = instructions; nrf52840 DWT CYCCNT at Renode's 64 MIPS = instructions;
                  Renode's netduinoplus2 TIM2 counts virtual time, not instructions), and on
                  Renode `sysbus.cpu ExecutedInstructions` per window (a block of windows,
                  minus the same number of ECHOs of the request's size: preprocessing + invoke)
Ratios (renode / qemu) are printed at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from harness.device import infer_windows, load_model, set_preprocess
from harness.device.inputs import fold_from_file
from harness.firmware.build import build_firmware
from harness.link.protocol import MsgType
from harness.paths import SOURCE_ROOT
from harness.signals.field import cut_windows
from harness.signals.synth import SensorModel, make_scenario
from harness.targets import create_target

TARGETS = [("qemu", "netduinoplus2"), ("renode", "netduinoplus2"), ("renode", "nrf52840")]
ECHO_BYTES = 2048


def fixture_models(names: list[str]) -> list[tuple[str, bytes, str]]:
    folder = SOURCE_ROOT / "fixtures" / "models"
    return [(name, (folder / f"{name}.tflite").read_bytes(), str(folder / f"{name}.json")) for name in names]


def echo_rates(client, count: int) -> tuple[float, float]:
    payload = (bytes(range(256)) * (ECHO_BYTES // 256 + 1))[:ECHO_BYTES]
    to_first = reply = 0.0
    for _ in range(count):
        assert client.echo(payload, 30.0) == payload
        to_first += client.last_exchange.to_first_byte_s
        reply += client.last_exchange.reply_transfer_s
    return count * ECHO_BYTES / to_first / 1000, count * ECHO_BYTES / reply / 1000


def echo_block(client, payload_bytes: int, count: int) -> None:
    payload = bytes(payload_bytes)
    for _ in range(count):
        client.request(MsgType.ECHO, payload, 30.0)


def measure(kind: str, board: str, models, windows: int, echoes: int) -> dict:
    image = build_firmware(board=board, engine="portable")
    target = create_target(kind, board=board, boot_timeout_s=30)
    with target:
        started = time.monotonic()
        target.start(image)
        client = target.connect()
        figures = {"boot_s": time.monotonic() - started}
        figures["h2d"], figures["d2h"] = echo_rates(client, echoes)
        for name, model_bytes, metadata in models:
            model = load_model(client, model_bytes)
            set_preprocess(client, fold_from_file(metadata, model, SensorModel().counts_per_g))
            trace = make_scenario("mixed", seconds=(windows + 40) * model.window_len / 1600 + 1, seed=5)
            counts = SensorModel().to_counts(cut_windows(trace, window_len=model.window_len).samples)
            infer_windows(client, counts[:8])    # warm-up: both emulators translate the code once
            batch = counts[8:8 + windows]
            executed = getattr(target, "executed_instructions", None)
            before = executed() if executed else 0
            t0 = time.monotonic()
            result = infer_windows(client, batch, depth=1)
            rate = len(batch) / (time.monotonic() - t0)
            per_window = None
            if executed:
                infer_instructions = executed() - before
                echo_start = executed()
                echo_block(client, 4 + batch[0].nbytes, len(batch))
                per_window = (infer_instructions - (executed() - echo_start)) / len(batch)
            figures[name] = {"windows_s": rate, "device_cost": int(statistics.median(result.cost.tolist())),
                             "executed_per_window": per_window}
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", type=int, default=64, help="windows per model and target")
    parser.add_argument("--echoes", type=int, default=32, help="2048-byte ECHOs per target")
    parser.add_argument("--models", default="minmax,robust,two_stage", help="fixture models (INT8)")
    args = parser.parse_args()
    models = fixture_models(args.models.split(","))
    results = {}
    for kind, board in TARGETS:
        results[(kind, board)] = figures = measure(kind, board, models, args.windows, args.echoes)
        print(f"{kind}/{board}: boot {figures['boot_s']:.2f} s, ECHO h2d {figures['h2d']:.1f} kB/s, "
              f"d2h {figures['d2h']:.1f} kB/s")
        for name, _, _ in models:
            model = figures[name]
            executed = f", executed {model['executed_per_window']:.0f} instr/window" \
                if model["executed_per_window"] is not None else ""
            print(f"  {name:<24} {model['windows_s']:6.1f} windows/s, device cost {model['device_cost']}{executed}")
        sys.stdout.flush()
    qemu = results[("qemu", "netduinoplus2")]
    for key in [("renode", "netduinoplus2"), ("renode", "nrf52840")]:
        renode = results[key]
        print(f"ratio {key[0]}/{key[1]} : qemu  boot {renode['boot_s'] / qemu['boot_s']:.2f}  "
              f"h2d {renode['h2d'] / qemu['h2d']:.2f}  d2h {renode['d2h'] / qemu['d2h']:.2f}")
        for name, _, _ in models:
            print(f"  {name:<24} windows/s {renode[name]['windows_s'] / qemu[name]['windows_s']:.2f}  "
                  f"device cost {renode[name]['device_cost'] / qemu[name]['device_cost']:.3f}  "
                  f"Renode executed/window vs QEMU icount cost "
                  f"{renode[name]['executed_per_window'] / qemu[name]['device_cost']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
