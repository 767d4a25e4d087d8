"""Which firmware to build and which target options to use for ``--target T --board NAME``.

For targets that run on inventory boards (``pyocd``), NAME names boards.toml entries
("nucleo-1", "a,b" for one free board of several, "*") and the firmware board folder comes from
the entries. For the others NAME is the firmware board folder itself. The pytest plugin and the
CLI both call :func:`target_setup`, so they agree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from harness.boards.inventory import default_inventory_path, load_inventory
from harness.errors import ConfigError

# targets whose --board names inventory entries rather than firmware board folders
INVENTORY_TARGETS = ("pyocd",)
DEFAULT_LOCK_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class TargetSetup:
    target: str
    firmware_board: str
    options: dict = field(default_factory=dict)


def target_setup(target: str, board: str, *, inventory: str | os.PathLike | None = None,
                 lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
                 search_dir: str | os.PathLike | None = None, place: str | None = None) -> TargetSetup:
    """Resolve ``--target``/``--board`` (and the inventory, or a labgrid ``place``: "p1", or
    "p1,p2" for any free one) into what to build and how to run it."""
    if place and target != "labgrid":
        raise ConfigError(f"--place names a labgrid place; it needs --target labgrid, not '{target}'")
    if target not in INVENTORY_TARGETS:
        return TargetSetup(target, board, {"board": board, **({"place": place} if place else {})})
    path = Path(inventory) if inventory else default_inventory_path(search_dir)
    if path is None:
        raise ConfigError(f"target '{target}' needs a board inventory: --hil-inventory/--inventory PATH, "
                          f"$HIL_INVENTORY or boards.toml (see boards.example.toml)")
    entries = load_inventory(path).select(board)
    firmware_boards = sorted({entry.firmware_board for entry in entries})
    if len(firmware_boards) != 1:
        raise ConfigError(f"boards '{board}' need different firmware ({', '.join(firmware_boards)}); "
                          f"run one kind of board per session")
    return TargetSetup(target, firmware_boards[0],
                       {"inventory_board": board, "inventory": str(path), "lock_timeout_s": lock_timeout_s})
