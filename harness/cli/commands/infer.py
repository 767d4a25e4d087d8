"""hil infer: run windows through the model on the device and save what it computed.

Raw windows (default): the device applies the preprocessing (the fold of the scaler in
--scaler-from, or <model>.json beside the model) to raw int16 counts and runs the model; every
window's input codes are checked against the host mirror. With --input-codes the file holds
input tensors that go to the model as they are.

Inputs: .npy raw counts (n, window_len, axes); .csv/.parquet trace in g (cut into windows of the
model's length, converted with --counts-per-g); .npy input tensors with --input-codes.
Output .npz: input_codes (n, *input_shape), outputs (n, *output_shape), cost (n,) and cost_unit
(instructions under QEMU -icount, cycles on silicon).
"""

from __future__ import annotations

import argparse

from harness.cli.device import add_device_arguments


def register(subparsers) -> None:
    parser = subparsers.add_parser("infer", help="run windows through a model on the device; save codes, outputs, cost",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_device_arguments(parser)
    parser.add_argument("--model", required=True, help=".tflite file to upload")
    parser.add_argument("--scaler-from", default=None, metavar="JSON",
                        help="model metadata, scaler export or fold export (default: <model>.json if it exists)")
    parser.add_argument("--input", required=True, help="windows: .npy counts, .csv/.parquet trace, or .npy tensors")
    parser.add_argument("--input-codes", action="store_true", help="the input holds model input tensors, no preprocessing")
    parser.add_argument("--output", required=True, help=".npz to write")
    parser.add_argument("--counts-per-g", type=float, default=2048.0,
                        help="sensor sensitivity, LSB per g (default: %(default)s, +-16 g over 16 bits)")
    parser.add_argument("--hop", type=int, default=None, help="samples between trace windows (default: no overlap)")
    parser.add_argument("--depth", type=int, default=2, help="requests in flight (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="S", help="seconds per request")
    parser.set_defaults(func=run)


def _scaler_path(args):
    from pathlib import Path

    from harness.errors import ConfigError
    if args.scaler_from:
        return Path(args.scaler_from)
    beside = Path(args.model).with_suffix(".json")
    if beside.is_file():
        return beside
    raise ConfigError(f"raw windows need the preprocessing: pass --scaler-from (no {beside} beside the model), "
                      "or --input-codes for input tensors")


def run(args: argparse.Namespace) -> int:
    import time

    import numpy as np

    from harness.cli.commands.load import print_model, read_model
    from harness.cli.device import open_device
    from harness.device import infer_codes, infer_windows, load_model, set_preprocess
    from harness.device.inputs import (
        fold_from_file,
        load_input_tensors,
        load_raw_windows,
    )
    from harness.errors import StreamError

    model_bytes = read_model(args.model)
    scaler_path = None if args.input_codes else _scaler_path(args)
    with open_device(args) as device:
        client = device.client
        model = load_model(client, model_bytes, timeout_s=args.timeout)
        print_model(model)
        if args.input_codes:
            tensors = load_input_tensors(args.input, model)
            run_inference = lambda: infer_codes(client, tensors, model=model, depth=args.depth,  # noqa: E731
                                                timeout_s=args.timeout)
        else:
            fold = fold_from_file(scaler_path, model, args.counts_per_g)
            counts = load_raw_windows(args.input, model.window_len, args.counts_per_g, args.hop)
            set_preprocess(client, fold, timeout_s=args.timeout)
            run_inference = lambda: infer_windows(client, counts, model=model, depth=args.depth,  # noqa: E731
                                                  timeout_s=args.timeout)
        started = time.monotonic()
        try:
            result = run_inference()
        except StreamError as e:
            e.partial.save_npz(args.output)  # keep what the device already answered
            print(f"partial: {len(e.partial)} windows saved to {args.output}")
            raise
        elapsed_s = time.monotonic() - started
    result.save_npz(args.output)
    n = len(result)
    print(f"windows: {n}")
    if not args.input_codes:
        print("input_codes: equal to the host mirror in every window")
    print(f"windows_per_s: {n / elapsed_s:.1f}" if n and elapsed_s > 0 else "windows_per_s: n/a")
    if n:
        print(f"cost_{result.cost_unit or 'ticks'}: median {int(np.median(result.cost))} "
              f"min {int(result.cost.min())} max {int(result.cost.max())}")
    print(f"output: {args.output}")
    return 0
