#!/usr/bin/env python3
"""On-device inference throughput over QEMU next to the ECHO-bound rate for the same bytes, same run.

    .venv/bin/python benchmarks/bench_infer.py [--windows 300] [--depths 1,2,4] [--models all] [--elf ELF]

For each model: upload it, configure the preprocessing, stream raw windows (mixed scenario,
warm-up first, so QEMU has translated the code) and report
  windows/s        INFER_WINDOW round trips per second at each pipeline depth
  echo-bound/s     ECHO round trips per second with the same request payload size, same depth:
                   what the link alone allows for these bytes (no preprocessing, no inference)
                   Both are medians over --rounds interleaved blocks (inference block, then ECHO
                   block), so background load on the host hits both alike.
  ratio            windows/s / echo-bound/s
  instr/inference  median cost (board_cost_counter delta around invoke; instructions under
                   -icount shift=0, interrupts masked around invoke)
Request bytes = 4 + 2 * window_len * axes; reply bytes = 8 + input tensor + output tensor.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path


from harness.device import infer_windows, load_model, set_preprocess
from harness.device.inputs import fold_from_file
from harness.device.synthetic_models import window_classifier
from harness.link.protocol import MsgType
from harness.quant.fold import fold_scaler
from harness.quant.scalers import make_scaler
from harness.quant.tflite import QuantParams
from harness.signals.field import cut_windows
from harness.signals.synth import SensorModel, make_scenario
from harness.targets import running_device

REPO = Path(__file__).resolve().parents[1]


def models(selection: str) -> list[tuple[str, bytes, str]]:
    """(name, model bytes, scaler kind to fit or the model's metadata JSON)"""
    sys.path.insert(0, str(REPO / "tests" / "support"))  # test tooling, not in the package
    from engine_support.random_models import random_model
    built = [("window3 (128x3, robust)", window_classifier(3, seed=3), "robust"),
             ("window6 (128x6, two_stage)", window_classifier(6, seed=6), "two_stage"),
             ("random6 (40x6, two_stage)", random_model(6).model, "two_stage")]
    fixtures = [(f"fixture {p.stem}", p.read_bytes(), str(p.with_suffix(".json")))
                for p in sorted((REPO / "fixtures" / "models").glob("*.tflite"))
                if not p.name.endswith(".float.tflite") and p.with_suffix(".json").is_file()]
    return {"all": built + fixtures, "fixtures": fixtures, "one": built[:1]}[selection]


def echo_rate(client, payload_bytes: int, count: int, depth: int) -> float:
    payload = bytes(range(256)) * (payload_bytes // 256 + 1)
    payload = payload[:payload_bytes]
    in_flight = []
    started = time.monotonic()
    sent = 0
    done = 0
    while done < count:
        while sent < count and len(in_flight) < depth:
            in_flight.append(client.send(MsgType.ECHO, payload))
            sent += 1
        frame = client.wait_reply(in_flight.pop(0), MsgType.ECHO, 10.0)
        assert frame.payload == payload
        done += 1
    return count / (time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", type=int, default=300, help="windows per model and depth")
    parser.add_argument("--depths", default="1,2,4", help="pipeline depths to measure")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved inference/ECHO blocks per figure")
    parser.add_argument("--models", choices=("all", "fixtures", "one"), default="all")
    parser.add_argument("--elf", help="firmware ELF (default: build ENGINE=portable)")
    args = parser.parse_args()
    depths = [int(d) for d in args.depths.split(",")]
    if args.elf:
        image = args.elf
    else:
        from harness.firmware.build import build_firmware
        image = build_firmware(engine="portable")
    calibration = cut_windows(make_scenario("normal", seconds=4.0, seed=99), window_len=64).samples
    with running_device("qemu", image) as device:
        client = device.client
        print(f"qemu netduinoplus2, -icount shift=0, max payload {device.boot_info.max_payload}, "
              f"{args.windows} windows per figure")
        print(f"{'model':<28} {'req B':>6} {'reply B':>7} {'depth':>5} {'windows/s':>10} "
              f"{'echo-bound/s':>12} {'ratio':>6} {'instr/inference':>15}")
        for name, model_bytes, scaler_kind in models(args.models):
            model = load_model(client, model_bytes)
            if scaler_kind.endswith(".json"):  # a trained model's metadata
                fold = fold_from_file(scaler_kind, model, SensorModel().counts_per_g)
            else:
                scaler = make_scaler(scaler_kind).fit(calibration)
                fold = fold_scaler(scaler, QuantParams(model.input.scale, model.input.zero_point),
                                   SensorModel().counts_per_g)
            set_preprocess(client, fold)
            trace = make_scenario("mixed", seconds=(args.windows + 40) * model.window_len / 1600 + 1, seed=5)
            counts = SensorModel().to_counts(cut_windows(trace, window_len=model.window_len).samples)
            infer_windows(client, counts[:20])  # warm-up: QEMU translates the code paths once
            echo_rate(client, 4 + counts[0].nbytes, 20, 1)
            request_bytes = 4 + counts[0].nbytes
            reply_bytes = 8 + model.input.nbytes + model.output.nbytes
            for depth in depths:
                # interleave inference and ECHO blocks so both see the same background load;
                # report the median block rate of each
                rates, bounds, costs = [], [], []
                block = max(1, args.windows // args.rounds)
                for round_index in range(args.rounds):
                    batch = counts[20 + round_index * block: 20 + (round_index + 1) * block]
                    started = time.monotonic()
                    result = infer_windows(client, batch, depth=depth)
                    rates.append(len(batch) / (time.monotonic() - started))
                    bounds.append(echo_rate(client, request_bytes, len(batch), depth))
                    costs.extend(result.cost.tolist())
                rate, bound = statistics.median(rates), statistics.median(bounds)
                print(f"{name:<28} {request_bytes:>6} {reply_bytes:>7} {depth:>5} {rate:>10.1f} "
                      f"{bound:>12.1f} {rate / bound:>6.2f} {int(statistics.median(costs)):>15}")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
