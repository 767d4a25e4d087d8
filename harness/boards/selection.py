"""What to build and which target options to use for ``--target T [--board B] [--inventory-board N]``.

Two words, two things:

- ``--board`` is always the **firmware board**: a folder of ``firmware/boards/`` (what
  ``hil build --board`` builds, as Zephyr's ``-b``). Default: netduinoplus2.
- ``--inventory-board`` names **boards.toml entries**: physical boards of an inventory target
  (``pyocd``), "nucleo-1", "a,b" for one free board of several, or "*". The firmware board then
  comes from the entries. Without it, an inventory target takes any entry whose ``firmware_board``
  is ``--board`` (all entries when ``--board`` is not given).

The pytest plugin, the CLI and :func:`harness.suite.api.run_suite` all call :func:`target_setup`,
so they agree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from harness.boards.inventory import default_inventory_path, load_inventory
from harness.errors import ConfigError

# targets that run on inventory boards (boards.toml entries) rather than on an emulated board
INVENTORY_TARGETS = ("pyocd",)
DEFAULT_FIRMWARE_BOARD = "netduinoplus2"
DEFAULT_LOCK_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class TargetSetup:
    target: str
    firmware_board: str
    options: dict = field(default_factory=dict)


def target_setup(target: str, board: str | None = None, *, inventory_board: str | None = None,
                 inventory: str | os.PathLike | None = None, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
                 search_dir: str | os.PathLike | None = None, place: str | None = None) -> TargetSetup:
    """Resolve the firmware ``board``, the ``inventory_board`` entries (and the inventory, or a
    labgrid ``place``: "p1", or "p1,p2" for any free one) into what to build and how to run it."""
    if place and target != "labgrid":
        raise ConfigError(f"--place names a labgrid place; it needs --target labgrid, not '{target}'")
    if target not in INVENTORY_TARGETS:
        if inventory_board:
            raise ConfigError(f"--inventory-board names boards.toml entries; it needs an inventory target "
                              f"({', '.join(INVENTORY_TARGETS)}), not '{target}'")
        board = board or DEFAULT_FIRMWARE_BOARD
        return TargetSetup(target, board, {"board": board, **({"place": place} if place else {})})
    path = Path(inventory) if inventory else default_inventory_path(search_dir)
    if path is None:
        raise ConfigError(f"target '{target}' needs a board inventory: --hil-inventory/--inventory PATH, "
                          f"$HIL_INVENTORY or boards.toml (see boards.example.toml)")
    loaded = load_inventory(path)
    entries = loaded.select(inventory_board or "*")
    if board:
        other = [e for e in entries if e.firmware_board != board]
        if inventory_board and other:
            raise ConfigError(f"{path}: board '{other[0].name}' runs firmware board '{other[0].firmware_board}', "
                              f"not --board '{board}' (leave --board out to take the entry's)")
        entries = [e for e in entries if e.firmware_board == board]
        if not entries:
            known = ", ".join(f"{n} ({loaded.boards[n].firmware_board})" for n in sorted(loaded.boards))
            raise ConfigError(f"{path}: no board has firmware_board '{board}' (entries: {known}); "
                              f"--board is a firmware board folder, --inventory-board names entries")
    firmware_boards = sorted({entry.firmware_board for entry in entries})
    if len(firmware_boards) != 1:
        raise ConfigError(f"boards '{inventory_board or '*'}' need different firmware ({', '.join(firmware_boards)}); "
                          f"run one kind of board per session (--board or --inventory-board)")
    names = inventory_board or ",".join(e.name for e in entries)
    return TargetSetup(target, firmware_boards[0],
                       {"inventory_board": names, "inventory": str(path), "lock_timeout_s": lock_timeout_s})
