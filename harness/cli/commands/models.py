"""hil models: the bundles of a models folder (the fixtures or a team's own), and (--table) float vs
host-INT8 accuracy per class on the held-out set their training provenance names."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "models", help="list the trained models; --table: float vs host-INT8 accuracy per class",
        description="Check every <name>.json in the models folder against its .tflite files "
                    "(sha256, ops, quantization, scaler). With --table, rebuild the held-out set "
                    "the metadata names and run the float reference and the host INT8 reference "
                    "(TFLite Micro) on it: recall per class, float vs INT8. No TensorFlow needed. A bundle "
                    "without hil train's provenance (training.dataset, held_out) is listed but has no "
                    "held-out set to table; hil run --bundle judges it on its own recordings.")
    parser.add_argument("--dir", default="fixtures/models", metavar="DIR",
                        help="models folder (default: %(default)s)")
    parser.add_argument("--table", action="store_true",
                        help="run both references on the held-out set and print the table")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these models")
    parser.set_defaults(func=run)


def _paths(args):
    from harness.errors import ConfigError
    from harness.bundle.load import list_bundles
    from harness.models.variants import VARIANTS

    paths = list_bundles(args.dir)
    if args.only:
        missing = sorted(set(args.only) - {p.stem for p in paths})
        if missing:
            raise ConfigError(f"no model(s) {', '.join(missing)} in {args.dir}")
        paths = [p for p in paths if p.stem in args.only]
    if not paths:
        raise ConfigError(f"no <name>.json models in {args.dir}; run hil train first")
    order = {name: i for i, name in enumerate(VARIANTS)}
    return sorted(paths, key=lambda p: (order.get(p.stem, len(order)), p.stem))


def describe(bundle) -> str:
    """One line per bundle: name, classes, window, input quantization, file, ops, and the
    training provenance when there is some."""
    meta = bundle.metadata
    window = meta.window
    rate_hz = window.get("rate_hz") or (bundle.spec.sensor.rate_hz if bundle.spec is not None else None)
    hop = bundle.spec.window_hop if bundle.spec is not None else window.get("hop", window["length"])
    where = f"{window['length']}@{rate_hz:g}Hz hop {hop}" if rate_hz else f"{window['length']} hop {hop}"
    training = meta.training or {}
    made = (f"  scaler={training['scaler']} {str(training.get('method', '')).upper()}".rstrip()
            if "scaler" in training else f"  scaler={meta.scaler.get('kind', '?')}")
    return (f"{meta.name:12s} classes={','.join(meta.classes)}  window={where}  input {meta.input['shape']} "
            f"scale={meta.input['scale']:.6g} zp={meta.input['zero_point']}  "
            f"sha256={meta.files['int8']['sha256'][:12]} {bundle.int8_path.stat().st_size} B  "
            f"ops={','.join(meta.ops)}{made}")


def has_held_out(meta) -> bool:
    """Does the bundle carry hil train's provenance: the held-out set's recipe?"""
    return isinstance((meta.training or {}).get("dataset"), dict) and bool(meta.held_out)


def run(args: argparse.Namespace) -> int:
    from harness.bundle.load import load_bundle

    paths = _paths(args)
    if not args.table:
        for path in paths:
            print(describe(load_bundle(path)))
        return 0

    from harness.models.evaluate import format_table, held_out_for, report_model

    reports, held_out, held_key, skipped = [], None, None, []
    for path in paths:
        meta = load_bundle(path).metadata
        if not has_held_out(meta):
            skipped.append(meta.name)
            continue
        key = repr(sorted(meta.training["dataset"].items()))
        if key != held_key:   # models trained together share one held-out set
            held_out, held_key = held_out_for(meta), key
        reports.append(report_model(load_bundle(path), held_out))
        classes = meta.classes
    for name in skipped:
        print(f"{name}: no table: --table needs the training provenance (held_out and training.dataset, "
              "written by hil train) to rebuild a held-out set, and this bundle has none; "
              f"hil run --bundle judges it on its own recordings")
    if not reports:
        return 1
    if skipped:
        print()
    print(format_table(reports, classes))
    print()
    print(f"Held-out set: {len(held_out)} windows ({len(held_out) // len(classes)} per class), "
          "rebuilt from the seed in each model's metadata. Figures are recalls (fraction of the "
          "class's windows predicted as that class). 'x codes': distinct input codes (INT8; int16 for 16x8) the "
          "x axis takes over all normal windows.")
    stale = [r.name for r in reports if not r.matches_metadata]
    if stale:
        print(f"warning: figures differ from those recorded at training for {', '.join(stale)} "
              "(the signal generator changed since?)")
        return 1
    return 0
