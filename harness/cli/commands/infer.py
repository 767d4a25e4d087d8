"""hil infer: run windows through the model on the device and save what it computed.

Raw windows (default): the device applies the preprocessing (the fold of the scaler in
--scaler-from, or <model>.json beside the model, or the --bundle's scaler) to raw int16 counts and
runs the model; every window's input codes are checked against the host mirror. With
--input-codes the file holds input tensors that go to the model as they are.

--bundle FILE.json takes the model, scaler, window length, hop, rate, classes and the sensor's
counts per g from a team's bundle, and reads a recording with the bundle's layout (columns, units,
label column; --columns and --units override it).

Inputs: .npy raw counts (n, window_len, axes); .csv/.parquet recording in g (or --units; cut into
windows of the model's length every --hop samples, converted with --counts-per-g); .npy input
tensors with --input-codes.
Output .npz: input_codes (n, *input_shape), outputs (n, *output_shape), cost (n,), cost_unit
(instructions under QEMU -icount, cycles on silicon), window (n,) index, start_s (n,) window start
time (NaN when unknown), label (n,) the recording's label of each window ("" when unlabelled),
classes. Output .csv: one row per window (window, start_s, label, class, one column per output,
cost).
"""

from __future__ import annotations

import argparse

from harness.cli.device import add_device_arguments
from harness.cli.options import add_bundle_argument, add_counts_per_g_argument, add_recording_arguments


def register(subparsers) -> None:
    parser = subparsers.add_parser("infer", help="run windows through a model on the device; save codes, outputs, cost",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_device_arguments(parser)
    parser.add_argument("--model", default=None, help=".tflite file to upload (or --bundle)")
    add_bundle_argument(parser)
    parser.add_argument("--scaler-from", default=None, metavar="JSON",
                        help="model metadata, scaler export or fold export (default: the bundle, or <model>.json "
                             "if it exists)")
    parser.add_argument("--input", required=True, help="windows: .npy counts, .csv/.parquet recording, or .npy tensors")
    parser.add_argument("--input-codes", action="store_true", help="the input holds model input tensors, no preprocessing")
    parser.add_argument("--output", required=True, help=".npz (or .csv: one row per window) to write")
    add_recording_arguments(parser)
    add_counts_per_g_argument(parser)
    parser.add_argument("--hop", type=int, default=None,
                        help="samples between recording windows (default: the bundle's hop, else no overlap)")
    parser.add_argument("--depth", type=int, default=2, help="requests in flight (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="S", help="seconds per request")
    parser.add_argument("--layers", type=int, default=0, metavar="N",
                        help="also dump every layer of the first N windows from the device (INFER_LAYERS), checked "
                             "against tflite_micro and judged against the float model (needs --bundle); writes "
                             "<output>_layers.json and .png (docs/layers.md)")
    parser.set_defaults(func=run)


def _scaler_path(args, bundle):
    from pathlib import Path

    from harness.errors import ConfigError
    if args.scaler_from:
        return Path(args.scaler_from)
    if bundle is not None:
        return bundle.json_path
    beside = Path(args.model).with_suffix(".json")
    if beside.is_file():
        return beside
    raise ConfigError(f"raw windows need the preprocessing: pass --bundle or --scaler-from (no {beside} beside the "
                      "model), or --input-codes for input tensors")


def _classes(args, bundle, outputs: int) -> list[str]:
    """Class names for the output columns: the bundle's, the metadata beside the model's, else out_<k>."""
    import json
    from pathlib import Path
    if bundle is not None:
        return list(bundle.metadata.classes)
    beside = Path(args.model).with_suffix(".json")
    try:
        classes = json.loads(beside.read_text()).get("classes")
    except (OSError, ValueError, AttributeError):
        classes = None
    if isinstance(classes, list) and len(classes) == outputs:
        return [str(c) for c in classes]
    return [f"out_{k}" for k in range(outputs)]


def read_windows(args, bundle, window_len: int, counts_per_g: float):
    """The input file as RawWindows: .npy counts, or a recording read with the shared options."""
    from pathlib import Path

    from harness.cli.options import read_recording_args
    from harness.device.inputs import read_counts_npy, windows_from_trace
    from harness.errors import ConfigError
    suffix = Path(args.input).suffix.lower()
    if suffix == ".npy":
        return read_counts_npy(args.input, window_len)
    if suffix not in (".csv", ".parquet"):
        raise ConfigError(f"{args.input}: unknown input format '{suffix}'; use .npy (counts), .csv or .parquet "
                          "(a recording)")
    hop = args.hop if args.hop is not None else (bundle.spec.window_hop if bundle is not None else None)
    trace = read_recording_args(args, args.input, bundle)
    rate_hz = float(bundle.metadata.window.get("rate_hz") or bundle.spec.sensor.rate_hz) if bundle else None
    return windows_from_trace(trace, window_len, counts_per_g, hop, rate_hz)


def save(path, result, windows, classes) -> None:
    """The device's answers with each window's index, start time and label (.npz or .csv)."""
    from pathlib import Path

    import numpy as np
    n = len(result)
    index = np.arange(n, dtype=np.int64)
    start_s = windows.start_s[:n] if windows is not None else np.full(n, np.nan)
    labels = (windows.labels[:n] if windows is not None and windows.labels is not None
              else np.full(n, "", dtype=object)).astype(str)
    if Path(path).suffix.lower() == ".csv":
        import pandas as pd
        outputs = np.asarray(result.outputs).reshape(n, -1)
        frame = pd.DataFrame({"window": index, "start_s": start_s, "label": labels,
                              "class": [classes[k] if k < len(classes) else str(k) for k in outputs.argmax(axis=1)]
                              if n else []})
        for k in range(outputs.shape[1]):
            frame[f"out_{classes[k]}" if k < len(classes) else f"out_{k}"] = outputs[:, k]
        frame["cost"] = np.asarray(result.cost)
        frame.to_csv(path, index=False, float_format="%.6f")
        return
    np.savez(path, input_codes=result.input_codes, outputs=result.outputs, cost=result.cost,
             cost_unit=np.array(result.cost_unit), window=index, start_s=start_s, label=labels,
             classes=np.asarray(classes, dtype=str))


def _layers(args, client, bundle, windows):
    """The per-layer report of the first ``--layers`` windows (harness.layers.judge_layers)."""
    from harness.errors import ConfigError
    from harness.layers import judge_layers
    from harness.suite.suite_model import SuiteModel
    if bundle is None or windows is None:
        raise ConfigError("--layers needs --bundle and raw windows (not --input-codes): the float model and the "
                          "scaler come from the bundle")
    counts = windows.counts[:args.layers]
    model = SuiteModel(bundle)
    return judge_layers(client, model, counts / model.counts_per_g, counts=counts, timeout_s=args.timeout)


def run(args: argparse.Namespace) -> int:
    import time

    import numpy as np

    from harness.cli.commands.load import print_model, read_model
    from harness.cli.device import open_device
    from harness.cli.options import counts_per_g as sensor_counts_per_g
    from harness.cli.options import load_bundle_arg
    from harness.device import infer_codes, infer_windows, load_model, set_preprocess
    from harness.device.inputs import fold_from_file, load_input_tensors
    from harness.errors import ConfigError, StreamError

    if bool(args.model) == bool(args.bundle):
        raise ConfigError("give the model: --bundle FILE.json (a team's bundle) or --model M.tflite, one of them")
    bundle = load_bundle_arg(args)
    model_path = str(bundle.int8_path) if bundle is not None else args.model
    model_bytes = read_model(model_path)
    counts_per_g = sensor_counts_per_g(args, bundle)
    scaler_path = None if args.input_codes else _scaler_path(args, bundle)
    windows = None
    with open_device(args) as device:
        client = device.client
        model = load_model(client, model_bytes, timeout_s=args.timeout)
        print_model(model)
        if args.input_codes:
            tensors = load_input_tensors(args.input, model)
            run_inference = lambda: infer_codes(client, tensors, model=model, depth=args.depth,  # noqa: E731
                                                timeout_s=args.timeout)
        else:
            fold = fold_from_file(scaler_path, model, counts_per_g)
            windows = read_windows(args, bundle, model.window_len, counts_per_g)
            sent = set_preprocess(client, fold, timeout_s=args.timeout)
            run_inference = lambda: infer_windows(client, windows.counts, model=model, mirror=sent,  # noqa: E731
                                                  depth=args.depth, timeout_s=args.timeout)
        classes = _classes(args, bundle, int(np.prod(model.output.shape)))
        started = time.monotonic()
        try:
            result = run_inference()
        except StreamError as e:
            save(args.output, e.results, windows, classes)  # keep what the device already answered
            print(f"partial: {len(e.results)} windows saved to {args.output}")
            raise
        elapsed_s = time.monotonic() - started
        layers = _layers(args, client, bundle, windows) if args.layers else None
    save(args.output, result, windows, classes)
    if layers is not None:
        import json
        from pathlib import Path
        stem = Path(args.output).with_suffix("")
        Path(f"{stem}_layers.json").write_text(json.dumps(layers.to_dict(), indent=2, default=float) + "\n")
        Path(f"{stem}_layers.png").write_bytes(layers.plot())
        print(layers.table())
        print(f"layers: {layers.reason()}")
        print(f"layers_json: {stem}_layers.json\nlayers_plot: {stem}_layers.png")
    n = len(result)
    print(f"windows: {n}")
    if bundle is not None:
        print(f"bundle: {bundle.name} ({len(classes)} classes, counts_per_g {counts_per_g:g})")
    if not args.input_codes:
        print("input_codes: equal to the host mirror in every window")
    print(f"windows_per_s: {n / elapsed_s:.1f}" if n and elapsed_s > 0 else "windows_per_s: n/a")
    if n:
        print(f"cost_{result.cost_unit or 'ticks'}: median {int(np.median(result.cost))} "
              f"min {int(result.cost.min())} max {int(result.cost.max())}")
    print(f"output: {args.output}")
    return 0
