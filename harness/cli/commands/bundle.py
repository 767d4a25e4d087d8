"""hil bundle: make a model bundle (docs/bundle.md) from a team's own parts.

    hil bundle --int8 model.tflite --float model.float.tflite --scaler scaler.pkl [--clip -4:4] \\
        --classes idle,walking,running,handling --calibration cal.csv --recording rec.csv \\
        --label-column activity --columns acc_x,acc_y,acc_z --units g --rate-hz 50 --hop 16 \\
        --out bundle.json

The window length, ops, quantization and sha256 come from the .tflite; the scaler is a pickled
scikit-learn MinMaxScaler/RobustScaler/StandardScaler, a harness scaler export (.json), or a
harness scaler kind to fit on the calibration file (``--scaler robust``). The bundle is checked
by the loader the suite uses; exit 2 with the file and field on any problem.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _pair(text: str, what: str) -> tuple[float, float]:
    from harness.errors import ConfigError
    lo, sep, hi = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return float(lo), float(hi)
    except ValueError:
        raise ConfigError(f"{what} must be LO:HI, e.g. -4:4, got '{text}'") from None


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def register(subparsers) -> None:
    from harness.signals.counts import DEFAULT_COUNTS_PER_G, DEFAULT_FULL_SCALE_G
    parser = subparsers.add_parser("bundle", help="make a model bundle from your .tflite, scaler, sensor and data",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--int8", required=True, help="the full-INT8 .tflite")
    parser.add_argument("--float", dest="float_tflite", default=None,
                        help="the float .tflite (the float reference; without it the suite has no float figures)")
    parser.add_argument("--scaler", required=True,
                        help="fitted scaler: .pkl (scikit-learn), .json (harness export), or a kind to fit on "
                             "--calibration (minmax, robust, zscore, log1p, two_stage; KIND:k=v,...)")
    parser.add_argument("--clip", default=None, help="the clip your pipeline applies after a scikit-learn scaler, LO:HI")
    parser.add_argument("--classes", required=True, help="class names in the model's output order, comma-separated")
    parser.add_argument("--watched", default="", help="classes that must keep their recall (default: all)")
    parser.add_argument("--calibration", required=True, help="the calibration data (CSV/Parquet) the scaler and "
                                                             "the INT8 input were fitted on")
    parser.add_argument("--recording", action="append", required=True,
                        help="a labelled recording (CSV/Parquet) to stream; repeat for more")
    parser.add_argument("--label-column", required=True, help="the recordings' label column")
    parser.add_argument("--columns", required=True, help="the axis columns, in the model's channel order")
    parser.add_argument("--time-column", default=None, help="the recordings' time column (optional)")
    parser.add_argument("--units", default="g", choices=("g", "mg", "m/s2"), help="units of the recordings")
    parser.add_argument("--rate-hz", type=float, required=True, help="sample rate of the sensor")
    parser.add_argument("--counts-per-g", type=float, default=DEFAULT_COUNTS_PER_G,
                        help="the sensor's int16 counts per g, as the device reads it (default: %(default)s, "
                             f"+-{DEFAULT_FULL_SCALE_G:g} g)")
    parser.add_argument("--full-scale-g", type=float, default=DEFAULT_FULL_SCALE_G,
                        help="the sensor's full scale (default: %(default)s)")
    parser.add_argument("--hop", type=int, default=None, help="window hop in samples (default: the window length)")
    parser.add_argument("--band", default="0.2:1.5", help="band of interest in g, LO:HI (default: %(default)s)")
    parser.add_argument("--name", default="", help="model name (default: the .tflite's stem)")
    parser.add_argument("--description", default="")
    parser.add_argument("--expect-verdict", default=None, choices=("OK", "DEGRADED", "COLLAPSED"),
                        help="the model verdict you expect (default: none, so anything but OK fails)")
    parser.add_argument("--expect-input-verdict", default=None, choices=("OK", "DEGRADED", "COLLAPSED"))
    parser.add_argument("--out", required=True, help="the bundle's JSON file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harness.bundle.make import BundleParts, load_scaler, make_bundle
    from harness.bundle.spec import Recording, Sensor

    columns = tuple(_names(args.columns))
    sensor = Sensor(columns, args.rate_hz, args.counts_per_g, args.full_scale_g, args.units)
    clip = _pair(args.clip, "--clip") if args.clip else None
    scaler, spec = None, ""
    if Path(args.scaler).suffix.lower() in (".pkl", ".pickle", ".json"):
        scaler = load_scaler(args.scaler, clip)
    else:
        spec = args.scaler
    expectations = {k: v for k, v in (("verdict", args.expect_verdict), ("input_verdict", args.expect_input_verdict))
                    if v}
    parts = BundleParts(
        int8_tflite=Path(args.int8), float_tflite=Path(args.float_tflite) if args.float_tflite else None,
        classes=_names(args.classes), watched_classes=_names(args.watched), sensor=sensor,
        calibration=Recording(Path(args.calibration), "", columns, args.units, args.time_column),
        recordings=[Recording(Path(r), args.label_column, columns, args.units, args.time_column)
                    for r in args.recording],
        scaler=scaler, scaler_spec=spec, name=args.name, description=args.description, hop=args.hop,
        band_g=_pair(args.band, "--band"), expectations=expectations,
        provenance={"made_by": "hil bundle", "scaler_source": str(args.scaler),
                    **({"clip": list(clip)} if clip else {})})
    bundle = make_bundle(parts, args.out)
    meta = bundle.metadata
    print(f"bundle {args.out}: {meta.name}, {len(meta.classes)} classes ({', '.join(meta.classes)}), window "
          f"{meta.window['length']} x {meta.window['channels']} at {bundle.spec.sensor.rate_hz:g} Hz, hop "
          f"{bundle.spec.window_hop}, scaler {bundle.scaler.name}, ops {', '.join(meta.ops)}, input scale "
          f"{meta.input['scale']:.6g} zero point {meta.input['zero_point']}")
    return 0
