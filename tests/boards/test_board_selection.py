"""--target/--board resolution shared by the pytest plugin and the CLI."""

from __future__ import annotations

import pytest

from harness.boards.selection import target_setup
from harness.errors import ConfigError, InventoryError

INVENTORY = """
[boards.n1]
probe = "A"
target = "stm32f446retx"
port = "auto"
firmware_board = "nucleo_f446re"

[boards.n2]
probe = "B"
target = "stm32f446retx"
port = "/dev/ttyACM1"
firmware_board = "nucleo_f446re"

[boards.q]
probe = "qemu"
target = "qemu_netduinoplus2"
port = "auto"
firmware_board = "netduinoplus2"
"""


@pytest.fixture
def inventory(tmp_path, monkeypatch):
    monkeypatch.delenv("HIL_INVENTORY", raising=False)
    path = tmp_path / "boards.toml"
    path.write_text(INVENTORY)
    return path


def test_emulators_take_the_board_folder(inventory):
    setup = target_setup("qemu", "netduinoplus2", inventory=inventory)
    assert (setup.firmware_board, setup.options) == ("netduinoplus2", {"board": "netduinoplus2"})


def test_pyocd_takes_inventory_entries(inventory):
    setup = target_setup("pyocd", "n1,n2", inventory=inventory, lock_timeout_s=5)
    assert setup.firmware_board == "nucleo_f446re"
    assert setup.options == {"inventory_board": "n1,n2", "inventory": str(inventory), "lock_timeout_s": 5}


def test_inventory_found_in_the_search_dir(inventory):
    assert target_setup("pyocd", "q", search_dir=inventory.parent).options["inventory"] == str(inventory)


def test_errors(inventory, tmp_path):
    with pytest.raises(ConfigError, match="different firmware"):
        target_setup("pyocd", "*", inventory=inventory)
    with pytest.raises(InventoryError, match="board 'zz'"):
        target_setup("pyocd", "zz", inventory=inventory)
    with pytest.raises(ConfigError, match="needs a board inventory"):
        target_setup("pyocd", "n1", search_dir=tmp_path / "empty")
