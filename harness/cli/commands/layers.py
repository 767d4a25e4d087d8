"""hil layers: where in the network a model loses against float, from the device's every layer.

    hil layers --target qemu --model minmax --compare robust --windows 16

Boots the firmware (ENGINE=portable: the INFER_LAYERS request), takes the scenario's windows the
INT8 model gets wrong (all of them when none is wrong), runs each through the device op by op,
checks every tensor against tflite_micro and prints the per-layer table and the reason. Writes
``<out>/<model>_sqnr_layers.png`` and ``<out>/<model>_layers.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from harness.cli.device import add_device_arguments, open_device


def register(subparsers) -> None:
    parser = subparsers.add_parser("layers", help="every intermediate tensor from the device, judged layer by "
                                                  "layer against float")
    add_device_arguments(parser)
    parser.add_argument("--model", required=True, help="model name (fixtures/models/<name>.json) or bundle .json")
    parser.add_argument("--compare", default=None, metavar="MODEL",
                        help="another model of the same network, judged on the same windows (e.g. robust)")
    parser.add_argument("--scenario", default=None,
                        help="scenario whose windows are judged (default: the model's first watched class)")
    parser.add_argument("--windows", type=int, default=16, metavar="N",
                        help="at most N windows, the failing ones first (default: %(default)s)")
    parser.add_argument("--all-windows", action="store_true",
                        help="judge the scenario's first N windows, failing or not")
    parser.add_argument("--seed", type=int, default=None, help="scenario seed (default: the suite's)")
    parser.add_argument("--out", default="reports/layers", help="folder for the plot and the JSON (default: %(default)s)")
    parser.set_defaults(func=run)


def _windows(model, args) -> tuple[np.ndarray, np.ndarray, str, bool]:
    from harness.errors import ConfigError
    from harness.layers.judge import failing_windows
    from harness.suite.config import SuiteConfig
    config = SuiteConfig(windows=max(3, args.windows)) if args.seed is None else \
        SuiteConfig(windows=max(3, args.windows), seed=args.seed)
    scenarios = {s.name: s for s in model.scenarios(config)}
    name = args.scenario or (model.watched_classes[0] if model.watched_classes else next(iter(scenarios)))
    if name not in scenarios:
        raise ConfigError(f"no scenario {name!r} for {model.name}; scenarios: {', '.join(scenarios)}")
    scenario = scenarios[name]
    wrong = np.zeros(0, dtype=np.int64) if args.all_windows else failing_windows(model, scenario)
    failing = len(wrong) > 0
    chosen = (wrong if failing else np.arange(len(scenario.labels)))[:args.windows]
    return scenario.g[chosen], scenario.counts[chosen], name, failing


def run(args: argparse.Namespace) -> int:
    from harness.layers.judge import judge_layers
    from harness.suite.suite_model import load_suite_model
    if args.windows < 1:
        from harness.errors import ConfigError
        raise ConfigError(f"--windows must be >= 1, got {args.windows}")
    model = load_suite_model(args.model)
    compare = load_suite_model(args.compare) if args.compare else None
    windows_g, counts, scenario, failing = _windows(model, args)
    with open_device(args) as device:
        report = judge_layers(device.client, model, windows_g, compare=compare, counts=counts)
    which = "windows the INT8 model gets wrong" if failing else "windows"
    print(f"{model.name}: {len(windows_g)} {which} of scenario {scenario}, device INT8 (bit-exact with "
          f"tflite_micro) against float, layer by layer")
    print(report.table())
    print()
    print(f"{model.name}: {report.reason()}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / f"{model.name}_sqnr_layers.png"
    png.write_bytes(report.plot(f"{model.name}{' vs ' + compare.name if compare else ''}: SQNR per layer, "
                                f"{len(windows_g)} {which} ({scenario})"))
    summary = dict(report.to_dict(), scenario=scenario, failing_windows=bool(failing))
    (out / f"{model.name}_layers.json").write_text(json.dumps(summary, indent=2, default=_json_value))
    print(f"wrote {png} and {out / (model.name + '_layers.json')}")
    return 0


def _json_value(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return str(value)
