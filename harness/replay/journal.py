"""Append-only triage journal: one JSON line per chunk, a header with the fingerprint first.

``<out>/triage-<fingerprint[:16]>.jsonl``::

    {"kind": "header", "fingerprint": "...", "trace": {...}, "model": {...}, "params": {...}}
    {"kind": "chunk", "chunk": 0, "rows": [0, 65536], "windows": [0, 512],
     "float": "1111...", "int8": "1111...", "disagree": [{...}, ...], "dropped": [...]}
    ...
    {"kind": "done", "windows": N, "rows": R, "dropped": [...]}

Class strings hold one digit per window (the class index), so a day of windows (1.08 M) costs
about 2 MB. Each line is flushed and fsynced as its chunk finishes: an interrupted replay keeps
every finished chunk, and a torn last line (killed mid-write) is cut off on resume. The
fingerprint is the sha256 of the trace file, the model files' sha256 and every parameter that
changes a result, so a second run over the same file and model finds the finished journal and
reuses the triage.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import ConfigError

JOURNAL_FORMAT = 1


def file_sha256(path, block: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint(header: dict) -> str:
    return hashlib.sha256(json.dumps(header, sort_keys=True).encode()).hexdigest()


def whole_lines(path: Path) -> tuple[list[dict], int]:
    """The JSON lines of a journal up to the first torn or unreadable one (a killed writer's last
    line), and how many bytes they take."""
    lines, good_bytes = [], 0
    with open(path, "rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                break
            try:
                lines.append(json.loads(raw))
            except json.JSONDecodeError:
                break
            good_bytes += len(raw)
    return lines, good_bytes


def cut_torn_tail(path: Path, good_bytes: int) -> None:
    """Drop what follows the last whole line, so that appending goes on from a clean line."""
    if good_bytes != path.stat().st_size:
        with open(path, "r+b") as handle:
            handle.truncate(good_bytes)


@dataclass
class JournalState:
    header: dict
    chunks: list = field(default_factory=list)
    done: dict | None = None


class Journal:
    """The journal of one fingerprint in ``out_dir``."""

    def __init__(self, out_dir, header: dict):
        self.header = {"kind": "header", "format": JOURNAL_FORMAT, **header}
        self.fingerprint = fingerprint(header)
        self.header["fingerprint"] = self.fingerprint
        self.path = Path(out_dir) / f"triage-{self.fingerprint[:16]}.jsonl"
        self._handle = None

    def read(self) -> JournalState | None:
        """What a previous run left (None if nothing); cuts a torn last line off the file."""
        if not self.path.is_file():
            return None
        lines, good_bytes = whole_lines(self.path)
        cut_torn_tail(self.path, good_bytes)
        if not lines or lines[0].get("kind") != "header":
            raise ConfigError(f"{self.path} is not a replay journal (no header line); move it away")
        if lines[0].get("fingerprint") != self.fingerprint:
            raise ConfigError(f"{self.path} belongs to another trace/model/parameters "
                              "(fingerprint differs); move it away")
        state = JournalState(lines[0])
        for line in lines[1:]:
            if line.get("kind") == "chunk":
                if line["chunk"] != len(state.chunks):
                    raise ConfigError(f"{self.path}: chunk {line['chunk']} follows "
                                      f"{len(state.chunks) - 1}; the journal is damaged, move it away")
                state.chunks.append(line)
            elif line.get("kind") == "done":
                state.done = line
        return state

    def start(self, resume_from: JournalState | None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume_from is None:
            self._handle = open(self.path, "w", encoding="utf-8")
            self._write(self.header)
        else:
            self._handle = open(self.path, "a", encoding="utf-8")

    def _write(self, record: dict) -> None:
        self._handle.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def append(self, record: dict) -> None:
        self._write(record)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
