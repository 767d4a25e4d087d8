"""hil models: the committed models, and (--table) float vs host-INT8 accuracy per class."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "models", help="list the trained models; --table: float vs host-INT8 accuracy per class",
        description="Check every <name>.json in the models folder against its .tflite files "
                    "(sha256, ops, quantization, scaler). With --table, rebuild the held-out set "
                    "the metadata names and run the float reference and the host INT8 reference "
                    "(TFLite Micro) on it: recall per class, float vs INT8. No TensorFlow needed.")
    parser.add_argument("--dir", default="fixtures/models", metavar="DIR",
                        help="models folder (default: %(default)s)")
    parser.add_argument("--table", action="store_true",
                        help="run both references on the held-out set and print the table")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these models")
    parser.set_defaults(func=run)


def _paths(args):
    from harness.errors import ConfigError
    from harness.models.metadata import list_bundles
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


def run(args: argparse.Namespace) -> int:
    from harness.models.metadata import load_bundle

    paths = _paths(args)
    if not args.table:
        for path in paths:
            bundle = load_bundle(path)
            meta = bundle.metadata
            print(f"{meta.name:12s} scaler={meta.training['scaler']:9s} "
                  f"{meta.training['method'].upper()}  input {meta.input['shape']} "
                  f"scale={meta.input['scale']:.6g} zp={meta.input['zero_point']}  "
                  f"{meta.files['int8']['bytes']} B  ops={','.join(meta.ops)}")
        return 0

    from harness.models.evaluate import format_table, held_out_for, report_model

    reports, held_out, held_key = [], None, None
    for path in paths:
        meta = load_bundle(path).metadata
        key = repr(sorted(meta.training["dataset"].items()))
        if key != held_key:   # models trained together share one held-out set
            held_out, held_key = held_out_for(meta), key
        reports.append(report_model(path, held_out))
        classes = meta.classes
    print(format_table(reports, classes))
    print()
    print(f"Held-out set: {len(held_out)} windows ({len(held_out) // len(classes)} per class), "
          "rebuilt from the seed in each model's metadata. Figures are recalls (fraction of the "
          "class's windows predicted as that class). 'x codes': distinct INT8 input codes the "
          "x axis takes over all normal windows.")
    stale = [r.name for r in reports if not r.matches_metadata]
    if stale:
        print(f"warning: figures differ from those recorded at training for {', '.join(stale)} "
              "(the signal generator changed since?)")
        return 1
    return 0
