"""hil analyze: collapse metrics and verdict per scaler, side by side, for a trace and a band."""

from __future__ import annotations

import argparse

from harness.cli.options import add_bundle_argument, add_recording_arguments

DEFAULT_SCALERS = ("minmax", "zscore", "robust", "log1p", "two_stage")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "analyze", help="how many INT8 codes does a band get under each scaler?",
        description="Fit each scaler on the calibration set (default: the trace itself), calibrate "
                    "the INT8 input on the scaled calibration set as TFLite does, then report for "
                    "the band of interest (|value| in LO..HI g, per axis, worst axis shown): codes "
                    "used, effective bits, g per code, SQNR, saturation, calibration range over "
                    "band width, and a verdict OK / DEGRADED / COLLAPSED. With --bundle: the bundle's own "
                    "scaler and INT8 input quantization is a row too (what the model runs), the band, the "
                    "calibration file and the recording layout are the bundle's, and labels must be among "
                    "its classes.")
    parser.add_argument("--trace", default=None,
                        help="trace or recording (.csv or .parquet) (default with --bundle: its first labelled "
                             "recording)")
    add_bundle_argument(parser)
    add_recording_arguments(parser)
    parser.add_argument("--scaler", action="append", default=None, metavar="NAME[:k=v,...]",
                        help="scaler to compare, repeatable, e.g. robust:clip_lo=-3,clip_hi=3 "
                             f"(default: {' '.join(DEFAULT_SCALERS)})")
    parser.add_argument("--band", default=None,
                        help="band of interest LO:HI in g (default: the bundle's band_g, else 0.2:1.5)")
    parser.add_argument("--calibration", default=None,
                        help="calibration trace (default: the bundle's calibration file, else --trace)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--plot", default=None, metavar="OUT.png",
                        help="write code histograms of the band and the quantization error")
    parser.set_defaults(func=run)


def _fmt(value, spec: str) -> str:
    if value is None:
        return "n/a"
    if value == float("inf"):
        return "inf"
    return format(value, spec)


def table(results) -> str:
    """The side-by-side table (one row per scaler) and the verdict reasons below it."""
    header = ("scaler", "codes", "bits", "g/code", "SQNR dB", "sat %", "range g", "range/band",
              "axis", "verdict")
    rows = []
    for metrics, verdict in results:
        rows.append((metrics.scaler, f"{metrics.codes_used}/{metrics.levels}",
                     f"{metrics.effective_bits:.2f}", _fmt(metrics.g_per_code, ".4f"),
                     _fmt(metrics.sqnr_db, ".1f"), f"{100 * metrics.saturation_rate:.2f}",
                     f"{metrics.range_g:.2f}", f"{metrics.range_ratio:.1f}x", metrics.worst_axis,
                     verdict.status))
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) if i in (0, 8, 9) else str(c).rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths))).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    for metrics, verdict in results:
        lines.append(f"{metrics.scaler}: {verdict.status}: {verdict.reason}")
    return "\n".join(lines)


def plot(path, trace_g, time_s, analyses, band) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from harness.quant.tflite import dequantize, quantize

    fig, axes = plt.subplots(len(analyses), 2, figsize=(13, 2.6 * len(analyses)), squeeze=False)
    for row, (spec, scaler, params, metrics, verdict) in enumerate(analyses):
        axis = int(["ax_g", "ay_g", "az_g"].index(metrics.worst_axis)) if trace_g.shape[1] == 3 else 0
        channels = np.flatnonzero(scaler.source_axis == axis)
        scaled = scaler.transform(trace_g)
        codes = quantize(scaled, params)
        in_band = band.contains(trace_g[:, axis])
        histogram = axes[row, 0]
        bins = np.arange(params.qmin, params.qmax + 2) - 0.5
        histogram.hist(codes[~in_band, channels[0]], bins=bins, color="0.7", label="outside band", log=True)
        histogram.hist(codes[in_band, channels[0]], bins=bins, color="tab:blue", label=f"band {band}",
                       log=True)
        histogram.set_title(f"{spec}: {verdict.status}, {metrics.codes_used} codes in band "
                            f"({metrics.worst_axis})", fontsize=9)
        histogram.set_xlabel("int8 code")
        histogram.legend(fontsize=7)
        reconstructed = scaler.inverse(dequantize(codes, params),
                                       saturated=scaler.saturation_mask(trace_g))
        reconstructed = reconstructed if reconstructed.ndim == 2 else reconstructed[:, None]
        error = reconstructed[:, axis] - trace_g[:, axis]
        series = axes[row, 1]
        series.plot(time_s, error, lw=0.4, color="tab:red")
        series.set_title(f"quantization error on {metrics.worst_axis} (g)", fontsize=9)
        series.set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _calibration_g(args, bundle, trace_g):
    """(calibration set in g, what it is): --calibration, the bundle's calibration file, the trace."""
    from harness.cli.options import read_recording_args
    from harness.signals.schema import axes_g
    if args.calibration:
        return axes_g(read_recording_args(args, args.calibration, bundle)), str(args.calibration)
    if bundle is not None and bundle.spec.data.calibration is not None:
        from harness.bundle.recordings import read_recording
        calibration = bundle.spec.data.calibration
        return read_recording(calibration, bundle.spec.sensor).g, str(calibration.file)
    return trace_g, str(args.trace)


def _bundle_row(bundle, trace_g, band):
    """The bundle's own scaler with the model's INT8 input quantization: what the device runs."""
    from harness.quant.metrics import band_metrics
    from harness.quant.tflite import QuantParams
    label = f"{bundle.name} (bundle)"
    params = QuantParams(float(bundle.metadata.input["scale"]), int(bundle.metadata.input["zero_point"]))
    metrics = band_metrics(bundle.scaler, params, trace_g, band, label=label)
    return (label, bundle.scaler, params, metrics)


def judged(rows: list) -> list:
    """Each row's verdict, relative to the best scaler of the table (bits lost) and naming as
    remedies only the scalers the same table finds OK."""
    from harness.quant.verdict import OK, Best, judge
    top = max(rows, key=lambda r: r[3].effective_bits)
    best = Best(top[0], top[3].effective_bits, top[3].codes_used)
    first = [judge(metrics, best=best) for _, _, _, metrics in rows]
    keeping = [row[0] for row, verdict in zip(rows, first) if verdict.status == OK]
    return [(label, scaler, params, metrics,
             judge(metrics, best=best, remedies=[k for k in keeping if k != label]))
            for label, scaler, params, metrics in rows]


def run(args: argparse.Namespace) -> int:
    import json

    from harness.cli.options import load_bundle_arg, read_recording_args
    from harness.errors import ConfigError
    from harness.quant.metrics import Band, analyze_scalers
    from harness.signals.schema import TIME_COLUMN, axes_g

    bundle = load_bundle_arg(args)
    if args.trace is None:
        if bundle is None or not bundle.spec.data.recordings:
            raise ConfigError("--trace is required (or --bundle with labelled recordings)")
        args.trace = str(bundle.spec.data.recordings[0].file)
    if args.band is not None:
        band = Band.parse(args.band)
    else:
        band = Band(*bundle.spec.band_g) if bundle is not None else Band.parse("0.2:1.5")
    trace = read_recording_args(args, args.trace, bundle)
    trace_g = axes_g(trace)
    calibration_g, calibration_name = _calibration_g(args, bundle, trace_g)
    specs = args.scaler or list(DEFAULT_SCALERS)
    rows = [_bundle_row(bundle, trace_g, band)] if bundle is not None else []
    rows += analyze_scalers(specs, trace_g, calibration_g, band)
    analyses = judged(rows)
    if args.json:
        print(json.dumps({"trace": str(args.trace),
                          "calibration": calibration_name,
                          **({"bundle": str(bundle.json_path), "classes": list(bundle.metadata.classes)}
                             if bundle is not None else {}),
                          "band": {"lo_g": band.lo_g, "hi_g": band.hi_g},
                          "scalers": [{**m.to_dict(), "verdict": v.to_dict()}
                                      for _, _, _, m, v in analyses]}, indent=2))
    else:
        if bundle is not None:
            print(f"bundle: {bundle.name}  classes: {', '.join(bundle.metadata.classes)}  "
                  f"window: {bundle.metadata.window['length']} samples at {bundle.spec.sensor.rate_hz:g} Hz")
        print(f"trace: {args.trace}  calibration: {calibration_name}  "
              f"band: {band} (|value| per axis; worst axis shown)")
        print(table([(m, v) for _, _, _, m, v in analyses]))
    if args.plot:
        plot(args.plot, trace_g, trace[TIME_COLUMN].to_numpy(), analyses, band)
        if not args.json:
            print(f"plot: {args.plot}")
    return 0
