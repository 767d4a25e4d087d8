"""hil gen: write a synthetic, labelled accelerometer trace (CSV or Parquet)."""

from __future__ import annotations

import argparse

SCENARIO_NAMES = ("normal", "pre_failure", "impact", "mixed", "shock_sweep")  # synth.SCENARIOS


def register(subparsers) -> None:
    from harness.signals.counts import DEFAULT_FULL_SCALE_G
    parser = subparsers.add_parser(
        "gen", help="generate a synthetic 3-axis vibration/shock trace",
        description="Write a seeded synthetic trace (time_s, ax_g, ay_g, az_g, label, event_id) "
                    "to .csv or .parquet. Scenarios: normal (0.2-1.5 g vibration, gravity on z), "
                    "pre_failure (a growing bearing-defect tone), impact (8.13 g shocks), mixed, "
                    "shock_sweep (1..16 g).")
    parser.add_argument("--scenario", required=True, choices=SCENARIO_NAMES)
    parser.add_argument("--seconds", type=float, default=60.0, help="duration (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument("--out", required=True, help="output file, .csv or .parquet")
    parser.add_argument("--rate-hz", type=float, default=1600.0, help="sample rate (default: %(default)s)")
    parser.add_argument("--peak-g", type=float, default=8.13, help="shock peak (default: %(default)s)")
    parser.add_argument("--shocks", type=int, default=None, help="number of shocks (default: one per 20 s)")
    parser.add_argument("--shock-at", type=float, action="append", default=None, metavar="SECONDS",
                        help="place a shock at this time (repeatable; overrides --shocks)")
    parser.add_argument("--shape", choices=("half_sine", "sawtooth"), default=None,
                        help="shock pulse shape (default: alternate)")
    parser.add_argument("--full-scale-g", type=float, default=DEFAULT_FULL_SCALE_G,
                        help="sensor full scale, saturates beyond (default: %(default)s)")
    parser.add_argument("--drop-rate", type=float, default=0.0,
                        help="fraction of samples the sensor drops (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time

    from harness.signals.io import write_trace
    from harness.signals.synth import SensorModel, make_scenario

    started = time.perf_counter()
    trace = make_scenario(
        args.scenario, seconds=args.seconds, seed=args.seed, rate_hz=args.rate_hz,
        peak_g=args.peak_g, shocks=args.shocks, shape=args.shape,
        shock_times_s=tuple(args.shock_at) if args.shock_at else None,
        sensor=SensorModel(full_scale_g=args.full_scale_g, drop_rate=args.drop_rate))
    path = write_trace(trace, args.out)
    counts = trace["label"].value_counts()
    print(f"trace: {path}")
    print(f"scenario: {args.scenario}  seed: {args.seed}  samples: {len(trace)}  "
          f"rate_hz: {args.rate_hz:g}  seconds: {args.seconds:g}")
    print("labels: " + ", ".join(f"{label}={int(counts.get(label, 0))}" for label in counts.index))
    print(f"peak_g: {trace[['ax_g', 'ay_g', 'az_g']].abs().to_numpy().max():.3f}  "
          f"elapsed_s: {time.perf_counter() - started:.2f}")
    return 0
