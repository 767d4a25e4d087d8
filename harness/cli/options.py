"""Options shared by the ``hil`` commands that read a model bundle and a recording: ``analyze``,
``infer`` and ``replay``.

``--bundle FILE.json`` gives the model, its classes, scaler, window (length, hop, rate) and the
sensor (counts per g, units, and the axis/time/label columns of the team's recordings).
``--columns`` / ``--units`` say how a recording is laid out when it is not the bundle's own
layout (or when there is no bundle). Each option is declared once here.
"""

from __future__ import annotations

import argparse

RECORDING_UNITS = ("g", "mg", "m/s2", "m/s^2", "counts")
SCHEMA_NAMES = ("time_s", "ax_g", "ay_g", "az_g", "label")


def add_bundle_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", default=None, metavar="FILE.json",
                        help="a model bundle (docs/bundle.md): the model, classes, scaler, window, sensor and "
                             "recording layout come from it")


def add_recording_arguments(parser: argparse.ArgumentParser) -> None:
    """How to read a recording: columns, units, time unit, the unit check."""
    parser.add_argument("--columns", default=None, metavar="MAP",
                        help="the recording's columns: schema=file pairs (time_s=t,ax_g=X,ay_g=Y,az_g=Z,"
                             "label=state) or the axis columns in order (X,Y,Z) (default: the bundle's "
                             "recording layout, else the schema names)")
    parser.add_argument("--units", default=None, choices=RECORDING_UNITS,
                        help="units of the recording's axes (default: the bundle sensor's, else g)")
    parser.add_argument("--units-counts-per-g", type=float, default=None, dest="units_counts_per_g",
                        help="with --units counts: the recording's LSB per g")
    parser.add_argument("--time-unit", default="s", help="s, ms, us or ns (default: %(default)s)")
    parser.add_argument("--no-check-units", action="store_true",
                        help="skip the m/s2-or-mg-read-as-g check")


def add_counts_per_g_argument(parser: argparse.ArgumentParser) -> None:
    from harness.signals.counts import DEFAULT_COUNTS_PER_G, DEFAULT_FULL_SCALE_G, DEFAULT_RESOLUTION_BITS
    parser.add_argument("--counts-per-g", type=float, default=None,
                        help="device sensor sensitivity, LSB per g (default: the bundle sensor's, else "
                             f"{DEFAULT_COUNTS_PER_G:g}: +-{DEFAULT_FULL_SCALE_G:g} g over {DEFAULT_RESOLUTION_BITS} bits)")


def load_bundle_arg(args: argparse.Namespace):
    """The ModelBundle named by ``--bundle``, or None."""
    if not getattr(args, "bundle", None):
        return None
    from harness.bundle.load import load_bundle
    return load_bundle(args.bundle)


def counts_per_g(args: argparse.Namespace, bundle=None) -> float:
    """``--counts-per-g``, else the bundle's sensor, else the default sensor's."""
    from harness.device.inputs import DEFAULT_COUNTS_PER_G
    if getattr(args, "counts_per_g", None) is not None:
        return float(args.counts_per_g)
    if bundle is not None and bundle.spec is not None:
        return float(bundle.spec.sensor.counts_per_g)
    return DEFAULT_COUNTS_PER_G


def parse_columns(text: str | None) -> dict:
    """``--columns``: schema=file pairs, or a plain list of the axis columns in axis order."""
    from harness.errors import ConfigError
    if not text:
        return {}
    items = [item.strip() for item in text.split(",")]
    if all("=" not in item for item in items):
        if len(items) != 3 or not all(items):
            raise ConfigError(f"--columns as a plain list names the 3 axis columns in order (X,Y,Z); got '{text}'")
        return dict(zip(SCHEMA_NAMES[1:4], items))
    out = {}
    for item in items:
        name, sep, column = item.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise ConfigError(f"--columns takes SCHEMA=FILE pairs, e.g. time_s=t,ax_g=X; got '{item}'")
        if name.strip() not in SCHEMA_NAMES:
            raise ConfigError(f"--columns: '{name.strip()}' is not one of {', '.join(SCHEMA_NAMES)}")
        out[name.strip()] = column.strip()
    return out


def bundle_layout(bundle) -> tuple[dict, str]:
    """(column mapping, units) of the bundle's own labelled recordings: what a team's recording
    looks like unless ``--columns`` / ``--units`` say otherwise. A synthetic bundle (the fixtures)
    uses the schema names."""
    if bundle is None or bundle.spec is None:
        return {}, "g"
    sensor = bundle.spec.sensor
    recordings = bundle.spec.data.recordings
    if not recordings:
        return dict(zip(SCHEMA_NAMES[1:4], sensor.axes)) if len(sensor.axes) == 3 else {}, sensor.units
    recording = recordings[0]
    mapping = dict(zip(SCHEMA_NAMES[1:4], recording.columns))
    if recording.time_column:
        mapping["time_s"] = recording.time_column
    if recording.label_column:
        mapping["label"] = recording.label_column
    return mapping, recording.units


def check_axes(bundle) -> None:
    from harness.errors import ConfigError
    if bundle is not None and bundle.spec is not None and len(bundle.spec.sensor.axes) != 3:
        raise ConfigError(f"{bundle.json_path}: the sensor has {len(bundle.spec.sensor.axes)} axes; reading a "
                          "recording here supports 3-axis sensors")


def recording_options(args: argparse.Namespace, bundle=None) -> dict:
    """Keyword arguments of ``import_recording`` / ``ChunkedTrace`` for the parsed options: the
    bundle's layout, overridden by ``--columns`` and ``--units``; labels checked against the
    bundle's classes."""
    check_axes(bundle)
    mapping, units = bundle_layout(bundle)
    mapping.update(parse_columns(args.columns))
    mapping = {name: column for name, column in mapping.items() if name != column}  # the schema's own
    return {"columns": mapping, "units": args.units or units, "counts_per_g": args.units_counts_per_g,
            "time_unit": args.time_unit, "check_units": not args.no_check_units,
            "classes": list(bundle.metadata.classes) if bundle is not None else None}


def read_recording_args(args: argparse.Namespace, path, bundle=None, rate_hz: float | None = None):
    """A whole recording as a schema trace in g (``harness.signals.field.import_recording``)
    read with the parsed options; labels are codes into the bundle's classes when a bundle is given."""
    from harness.signals.field import import_recording
    if rate_hz is None and bundle is not None:
        rate_hz = float(bundle.metadata.window.get("rate_hz") or bundle.spec.sensor.rate_hz)
    return import_recording(path, rate_hz=rate_hz, **recording_options(args, bundle))
