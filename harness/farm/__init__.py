"""A board farm on labgrid: the coordinator client the ``labgrid`` target uses (needs the ``farm``
extra: ``pip install 'tinyml-hil[farm]'``). The loopback farm of emulated boards the tests run on
is test tooling: ``tests/support/loopback_farm.py``.

``placements()`` lists the places this process acquired (place, exporter, holder), in order: the
nightly history takes the place and exporter names of a run from it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Placement:
    place: str
    exporter: str
    coordinator: str
    holder: str          # the coordinator user that held it: HOST/USER.hil-PID-N


_placements: list[Placement] = []
_lock = threading.Lock()


def record_placement(placement: Placement) -> None:
    with _lock:
        _placements.append(placement)


def placements() -> list[Placement]:
    with _lock:
        return list(_placements)


__all__ = ["Placement", "record_placement", "placements"]
