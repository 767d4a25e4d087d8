"""hil train: train, convert and record the classifier for each scaler (needs the ml extra)."""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    from harness.models.variants import DEFAULT_SEED, VARIANTS
    parser = subparsers.add_parser(
        "train", help="train the models and write fixtures/models/<name>.tflite, .float.tflite, .json",
        description="Train the vibration classifier once per variant (scaler x PTQ/QAT), convert it "
                    "to a float and a full-integer INT8 .tflite, score both with the TFLite Micro "
                    "references on the held-out set and write <name>.json. Deterministic for a "
                    "given seed. Needs TensorFlow: pip install -e '.[ml]'.")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=sorted(VARIANTS),
                        help=f"train only these variants (default: all of {', '.join(VARIANTS)})")
    parser.add_argument("--out", default="fixtures/models", metavar="DIR",
                        help="output folder (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help="seed for data, initialisation and shuffling (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time

    from harness.models.dataset import DatasetConfig
    from harness.models.train import TrainConfig, train_models

    started = time.monotonic()
    log = (lambda message: None) if args.quiet else (lambda message: print(message, file=sys.stderr))
    trained = train_models(args.out, args.only, TrainConfig(seed=args.seed),
                           DatasetConfig(seed=args.seed), log=log)
    for item in trained:
        acc = item.metadata.accuracy
        print(f"{item.metadata.name:12s} {item.int8_path} ({item.int8_path.stat().st_size} B)  "
              f"float {acc['float']['overall']:.3f}  int8 {acc['int8']['overall']:.3f}  "
              f"{item.seconds:.0f} s")
    print(f"trained {len(trained)} model(s) in {time.monotonic() - started:.0f} s")
    return 0
