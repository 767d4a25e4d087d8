"""The suite's journal: every window's device results as they arrive, so a killed ``hil run``
(even ``kill -9``) loses only the windows in flight and ``hil run --resume`` goes on from there.

``<out>/journal.jsonl``, one JSON object per line, the header first::

    {"kind": "header", "format": 1, "fingerprint": "...", "fingerprinted": {target, firmware, config, models}}
    {"kind": "windows", "model": "minmax", "scenario": "normal", "first": 0, "n": 1,
     "codes": {"dtype": "|i1", "shape": [1, 128, 3], "b64": "..."}, "outputs": {...}, "cost": {...},
     "cost_unit": "instructions"}
    {"kind": "fault", "model": ..., "scenario": ..., "event": {window, kind, error, recovered, reset_s, retry_error}}
    {"kind": "scenario", "model": ..., "scenario": ..., "windows": 12, "device_seconds": 0.61}

Arrays are base64 of their little-endian bytes with dtype and shape, so int8, int16 and int64
tensors come back bit for bit. Each line is written to the file as its window's reply arrives
(a process killed with SIGKILL leaves it in the kernel's page cache) and fsynced at least every
``FSYNC_EVERY_S`` seconds and at every scenario's end (a power cut loses at most that second).
A torn last line (killed mid-write) is cut off on resume.

The fingerprint is the sha256 of what makes results comparable: each bundle's sha256 of its JSON
and of its files.int8, ``SuiteConfig.to_dict()``, the firmware's build id and ELF sha256, and the
target name. A journal of another fingerprint is refused (ConfigError naming what differs).
``jobs`` is not in it: a model's windows do not depend on which job ran it.

The suite's runner finds the journal of the job it runs in with :func:`active` (set by
``harness.suite.api.run_suite`` around each job with :func:`recording`).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.errors import ConfigError
from harness.replay.journal import cut_torn_tail, file_sha256, fingerprint, whole_lines

JOURNAL_NAME = "journal.jsonl"
JOURNAL_FORMAT = 1
FSYNC_EVERY_S = 1.0


def suite_fingerprinted(models, config, image, target: str) -> dict:
    """What a run's results depend on (see the module docstring); ``models``: SuiteModels."""
    bundles = [{"name": m.name, "json_sha256": file_sha256(m.bundle.json_path),
                "int8_sha256": file_sha256(m.bundle.int8_path)} for m in models]
    firmware = {"build_id": getattr(image, "build_id", ""), "elf_sha256": file_sha256(Path(getattr(image, "elf", image)))}
    return {"target": target, "firmware": firmware, "config": config.to_dict(), "models": bundles}


def differences(journal, now, where: str = "") -> list[str]:
    """Where two fingerprinted dicts differ, as 'path: A in the journal, B now' lines."""
    if isinstance(journal, dict) and isinstance(now, dict):
        found = []
        for key in list(journal) + [k for k in now if k not in journal]:
            found += differences(journal.get(key), now.get(key), f"{where}.{key}" if where else str(key))
        return found
    if isinstance(journal, list) and isinstance(now, list) and len(journal) == len(now):
        return [line for k, (a, b) in enumerate(zip(journal, now)) for line in differences(a, b, f"{where}[{k}]")]
    return [] if journal == now else [f"{where}: {json.dumps(journal)} in the journal, {json.dumps(now)} now"]


def encode_array(array: np.ndarray) -> dict:
    array = np.ascontiguousarray(array)
    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
    return {"dtype": little.dtype.str, "shape": list(array.shape), "b64": base64.b64encode(little.tobytes()).decode()}


def decode_array(record: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(record["b64"]), dtype=np.dtype(record["dtype"])).reshape(record["shape"])


@dataclass
class ScenarioRecord:
    """What the journal holds of one model's scenario: windows by index, fault events, done."""

    windows: dict = field(default_factory=dict)    # index -> (codes, outputs, cost) of one window
    cost_unit: str = ""
    events: list = field(default_factory=list)     # FaultEvent, in the order they happened
    done: dict | None = None                       # the scenario line once it finished

    @property
    def faulted(self) -> set[int]:
        return {e.window for e in self.events if not e.recovered}

    def measured_prefix(self) -> int:
        """Windows 0..k-1 each answered or recorded as DEVICE FAULT: where a resumed stream starts."""
        faulted, k = self.faulted, 0
        while k in self.windows or k in faulted:
            k += 1
        return k


class SuiteJournal:
    """``<out>/journal.jsonl`` of one run: :meth:`start` a new one or :meth:`resume` the one there.
    Thread-safe: the jobs of a run (one thread each) append to the same file."""

    def __init__(self, out_dir, fingerprinted: dict):
        self.path = Path(out_dir) / JOURNAL_NAME
        self.fingerprinted = fingerprinted
        self.fingerprint = fingerprint(fingerprinted)
        self.records: dict[tuple[str, str], ScenarioRecord] = {}
        self._handle = None
        self._lock = threading.Lock()
        self._synced_at = 0.0

    @staticmethod
    def require(out_dir) -> Path:
        """The journal a resume needs, or ConfigError saying there is none."""
        path = Path(out_dir) / JOURNAL_NAME
        if not path.is_file():
            raise ConfigError(f"nothing to resume: no journal {path} (hil run writes it into --out; "
                              "run without --resume to start over)")
        return path

    def start(self) -> "SuiteJournal":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.path, "w", encoding="utf-8")
        self._write({"kind": "header", "format": JOURNAL_FORMAT, "fingerprint": self.fingerprint,
                     "fingerprinted": self.fingerprinted}, sync=True)
        return self

    def resume(self) -> "SuiteJournal":
        """Read what the killed run left (a torn last line is cut off), check the fingerprint."""
        self.require(self.path.parent)
        lines, good_bytes = whole_lines(self.path)
        if not lines or lines[0].get("kind") != "header":
            raise ConfigError(f"{self.path} is not a suite journal (no header line); move it away or run without --resume")
        header = lines[0]
        if header.get("fingerprint") != self.fingerprint:
            differ = differences(header.get("fingerprinted", {}), self.fingerprinted) or ["the journal's format"]
            raise ConfigError(f"{self.path} is the journal of another run (fingerprint differs): "
                              + "; ".join(differ[:5]) + (f"; and {len(differ) - 5} more" if len(differ) > 5 else "")
                              + ". Run without --resume to start over, or with the journal's options")
        for line in lines[1:]:
            self._replay(line)
        cut_torn_tail(self.path, good_bytes)   # only once the journal is known to be this run's
        self._handle = open(self.path, "a", encoding="utf-8")
        return self

    def _replay(self, line: dict) -> None:
        from harness.device.recovery import FaultEvent
        kind = line.get("kind")
        if kind not in ("windows", "fault", "scenario"):
            return
        record = self.record(line["model"], line["scenario"])
        if kind == "windows":
            codes, outputs, cost = (decode_array(line[k]) for k in ("codes", "outputs", "cost"))
            for k in range(int(line["n"])):
                record.windows[int(line["first"]) + k] = (codes[k], outputs[k], cost[k])
            record.cost_unit = line.get("cost_unit") or record.cost_unit
        elif kind == "fault":
            record.events.append(FaultEvent(**line["event"]))
        else:
            record.done = line

    def record(self, model: str, scenario: str) -> ScenarioRecord:
        return self.records.setdefault((model, scenario), ScenarioRecord())

    # --- appending, as results arrive -------------------------------------------------------

    def windows(self, model: str, scenario: str, first: int, result) -> None:
        """``result`` (an InferenceResult) holds windows ``first``.. of the scenario."""
        self._write({"kind": "windows", "model": model, "scenario": scenario, "first": int(first), "n": len(result),
                     "codes": encode_array(result.input_codes), "outputs": encode_array(result.outputs),
                     "cost": encode_array(np.asarray(result.cost)), "cost_unit": result.cost_unit})

    def fault(self, model: str, scenario: str, event) -> None:
        self._write({"kind": "fault", "model": model, "scenario": scenario,
                     "event": {"window": event.window, "kind": event.kind, "error": event.error,
                               "recovered": event.recovered, "reset_s": event.reset_s,
                               "retry_error": event.retry_error}}, sync=True)

    def scenario_done(self, model: str, scenario: str, windows: int, device_seconds: float) -> None:
        self._write({"kind": "scenario", "model": model, "scenario": scenario, "windows": int(windows),
                     "device_seconds": device_seconds}, sync=True)

    def _write(self, record: dict, sync: bool = False) -> None:
        text = json.dumps(record, separators=(",", ":")) + "\n"
        with self._lock:
            if self._handle is None:
                raise ConfigError(f"journal {self.path} is not open (start() or resume() it first)")
            self._handle.write(text)
            self._handle.flush()     # in the kernel now: a SIGKILL does not lose it
            now = time.monotonic()
            if sync or now - self._synced_at >= FSYNC_EVERY_S:
                os.fsync(self._handle.fileno())
                self._synced_at = now

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.flush()
                os.fsync(self._handle.fileno())
                self._handle.close()
                self._handle = None
