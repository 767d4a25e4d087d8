"""Real boards: the inventory (where each board is), port discovery and per-board locks.

    from harness.boards import load_inventory, BoardLock
    inventory = load_inventory("boards.toml")
    entry = inventory.board("nucleo-1")
    with BoardLock(entry.name, inventory.lock_dir).acquire(timeout_s=60):
        ...  # harness.targets.pyocd_board uses the entry to flash and talk to the board
"""

from harness.boards.inventory import (BoardEntry, Inventory, default_inventory_path, load_inventory,
                                      parse_inventory)
from harness.boards.lock import BoardLock, acquire_any, default_lock_dir
from harness.boards.ports import AUTO_PORT, PortInfo, find_port_for_probe, normalise_port, resolve_port
from harness.boards.selection import INVENTORY_TARGETS, TargetSetup, target_setup

__all__ = ["BoardEntry", "Inventory", "load_inventory", "parse_inventory", "default_inventory_path",
           "BoardLock", "acquire_any", "default_lock_dir",
           "AUTO_PORT", "PortInfo", "find_port_for_probe", "normalise_port", "resolve_port",
           "INVENTORY_TARGETS", "TargetSetup", "target_setup"]
