"""Shared helpers of the replay tests (a module, not a conftest: see tests/engine/engine_cases.py)."""

from __future__ import annotations

import json
from pathlib import Path

from harness.cli.main import build_parser
from field_recording import PlantedEvent, write_field_recording

SHORT_EVENTS = [PlantedEvent(20.3264, 1.28), PlantedEvent(45.1264, 1.28)]
WINDOW_S = 128 / 1600.0


def short_recording(path: Path) -> Path:
    """60 s (96000 rows, 750 windows), two planted events."""
    write_field_recording(path, 60.0, SHORT_EVENTS, seed=3)
    return path


def replay_args(trace, out, *extra):
    return build_parser().parse_args(["replay", "--trace", str(trace), "--model", "minmax",
                                      "--out", str(out), "--quiet", "--max-plots", "2", *map(str, extra)])


def report_of(out: Path) -> dict:
    return json.loads((Path(out) / "report.json").read_text())


def inside_events(start_s: float, events) -> bool:
    """Does the window starting at ``start_s`` overlap an event?"""
    return any(start_s < e.stop_s and start_s + WINDOW_S > e.start_s for e in events)
