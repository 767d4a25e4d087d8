"""The board inventory: a TOML file naming each real board and how to reach it.

    [defaults]                    # optional; applies to every board
    baud = 115200
    lock_dir = "/var/lock/tinyml-hil"

    [boards.nucleo-1]
    probe = "066DFF485550755187121723"     # pyOCD probe unique ID (`pyocd list`)
    target = "stm32f446retx"                # pyOCD target type (`pyocd list --targets`, or a pack)
    port = "auto"                           # "/dev/ttyACM0", "rfc2217://lab-2:4001", or "auto"
    baud = 115200
    firmware_board = "nucleo_f446re"        # folder under firmware/boards
    probe_server = "lab-2:5555"             # optional: a `pyocd server` on another machine
    frequency_hz = 4000000                  # optional SWD clock

``port = "auto"`` finds the virtual COM port whose USB serial number is the probe's UID
(harness.boards.ports). Parsing is pure: nothing here touches a probe or a port.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from harness.boards.ports import AUTO_PORT, normalise_port
from harness.errors import InventoryError

DEFAULT_BAUD = 115200
INVENTORY_ENV = "HIL_INVENTORY"
DEFAULT_INVENTORY_NAME = "boards.toml"

# key -> (type, required)
BOARD_KEYS: dict[str, tuple[type, bool]] = {
    "probe": (str, True),
    "target": (str, True),
    "port": (str, True),
    "firmware_board": (str, True),
    "baud": (int, False),
    "probe_server": (str, False),
    "frequency_hz": (int, False),
    "description": (str, False),
}
DEFAULT_KEYS = {"baud": int, "lock_dir": str, "frequency_hz": int, "probe_server": str}


@dataclass(frozen=True)
class BoardEntry:
    """One board of the inventory (a labgrid *resource*: where things are, not how to use them)."""

    name: str
    probe: str
    target: str
    port: str
    firmware_board: str
    baud: int = DEFAULT_BAUD
    probe_server: str | None = None
    frequency_hz: int | None = None
    description: str = ""
    source: Path | None = None

    @property
    def pyocd_unique_id(self) -> str:
        """The id pyOCD is asked for: ``remote:HOST:PORT`` through a probe server, else the UID."""
        return f"remote:{self.probe_server}" if self.probe_server else self.probe

    @property
    def port_is_auto(self) -> bool:
        return self.port == AUTO_PORT


@dataclass(frozen=True)
class Inventory:
    path: Path | None
    boards: dict[str, BoardEntry] = field(default_factory=dict)
    lock_dir: Path | None = None

    def board(self, name: str) -> BoardEntry:
        try:
            return self.boards[name]
        except KeyError:
            known = ", ".join(sorted(self.boards)) or "none"
            raise InventoryError(f"no such board; boards in this inventory: {known}",
                                 path=str(self.path) if self.path else None, board=name) from None

    def select(self, names: str | Iterable[str]) -> list[BoardEntry]:
        """Entries for ``"a,b"``, a list of names, or ``"*"`` (every board)."""
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",") if n.strip()]
        names = list(names)
        if names == ["*"]:
            return [self.boards[n] for n in sorted(self.boards)]
        return [self.board(n) for n in names]


def _check_type(value: Any, expected: type, path: Path | None, board: str | None, key: str) -> None:
    # bool is an int in Python; a board key never wants one
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise InventoryError(f"must be {expected.__name__}, got {type(value).__name__} {value!r}",
                             path=str(path) if path else None, board=board, key=key)


def parse_inventory(data: dict[str, Any], path: Path | None = None,
                    known_firmware_boards: Iterable[str] | None = None) -> Inventory:
    """Validate a parsed TOML document. Every error names the file, the board and the key."""
    where = str(path) if path else None
    unknown_top = sorted(set(data) - {"defaults", "boards"})
    if unknown_top:
        raise InventoryError(f"unknown table(s) {', '.join(unknown_top)}; expected [defaults] and [boards.NAME]",
                             path=where, key=unknown_top[0])
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise InventoryError("must be a table", path=where, key="defaults")
    for key, value in defaults.items():
        if key not in DEFAULT_KEYS:
            raise InventoryError(f"unknown default; known: {', '.join(sorted(DEFAULT_KEYS))}",
                                 path=where, board=None, key=f"defaults.{key}")
        _check_type(value, DEFAULT_KEYS[key], path, None, f"defaults.{key}")
    boards_table = data.get("boards", {})
    if not isinstance(boards_table, dict):
        raise InventoryError("must be a table of [boards.NAME] tables", path=where, key="boards")
    known = set(known_firmware_boards) if known_firmware_boards is not None else None
    boards: dict[str, BoardEntry] = {}
    for name, table in boards_table.items():
        if not isinstance(table, dict):
            raise InventoryError("must be a table", path=where, board=name)
        unknown = sorted(set(table) - set(BOARD_KEYS))
        if unknown:
            raise InventoryError(f"unknown key; known keys: {', '.join(sorted(BOARD_KEYS))}",
                                 path=where, board=name, key=unknown[0])
        values: dict[str, Any] = {k: defaults[k] for k in ("baud", "frequency_hz", "probe_server")
                                  if k in defaults}
        for key, (expected, required) in BOARD_KEYS.items():
            if key not in table:
                if required:
                    raise InventoryError("missing required key", path=where, board=name, key=key)
                continue
            _check_type(table[key], expected, path, name, key)
            values[key] = table[key]
        if not values["probe"].strip():
            raise InventoryError("must not be empty", path=where, board=name, key="probe")
        if values.get("baud", DEFAULT_BAUD) <= 0:
            raise InventoryError("must be a positive baud rate", path=where, board=name, key="baud")
        try:
            values["port"] = normalise_port(values["port"])
        except ValueError as e:
            raise InventoryError(str(e), path=where, board=name, key="port") from None
        server = values.get("probe_server")
        if server is not None:
            host, _, port = server.rpartition(":")
            if not host or not port.isdigit():
                raise InventoryError(f"must be HOST:PORT of a `pyocd server`, got '{server}'",
                                     path=where, board=name, key="probe_server")
            if values["port"] == AUTO_PORT:
                raise InventoryError("'auto' finds the port on this machine, but the probe is on "
                                     f"{host}; give the board's serial URL (e.g. rfc2217://{host}:4001)",
                                     path=where, board=name, key="port")
        if known is not None and values["firmware_board"] not in known:
            raise InventoryError(f"no firmware board folder '{values['firmware_board']}'; "
                                 f"folders: {', '.join(sorted(known))}", path=where, board=name,
                                 key="firmware_board")
        boards[name] = BoardEntry(name=name, source=path, **values)
    lock_dir = defaults.get("lock_dir")
    return Inventory(path=path, boards=boards,
                     lock_dir=Path(os.path.expanduser(lock_dir)) if lock_dir else None)


def load_inventory(path: str | os.PathLike, known_firmware_boards: Iterable[str] | None = None) -> Inventory:
    """Read and validate ``boards.toml``."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InventoryError("inventory file not found; copy boards.example.toml to start one",
                             path=str(path)) from None
    except OSError as e:
        raise InventoryError(f"cannot read: {e}", path=str(path)) from e
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InventoryError(f"not valid TOML: {e}", path=str(path)) from e
    return parse_inventory(data, path, known_firmware_boards)


def default_inventory_path(start: str | os.PathLike | None = None) -> Path | None:
    """``$HIL_INVENTORY``, else ``boards.toml`` in ``start`` (default: the current directory)."""
    env = os.environ.get(INVENTORY_ENV)
    if env:
        return Path(env)
    candidate = Path(start or Path.cwd()) / DEFAULT_INVENTORY_NAME
    return candidate if candidate.is_file() else None
