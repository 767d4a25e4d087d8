"""--target/--board/--inventory-board resolution shared by the pytest plugin, the CLI and run_suite."""

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
    setup = target_setup("qemu", "nucleo_f446re", inventory=inventory)
    assert (setup.firmware_board, setup.options) == ("nucleo_f446re", {"board": "nucleo_f446re"})
    assert target_setup("renode").firmware_board == "netduinoplus2"


def test_pyocd_takes_inventory_entries(inventory):
    setup = target_setup("pyocd", inventory_board="n1,n2", inventory=inventory, lock_timeout_s=5)
    assert setup.firmware_board == "nucleo_f446re"
    assert setup.options == {"inventory_board": "n1,n2", "inventory": str(inventory), "lock_timeout_s": 5}
    # --board agreeing with the entries is fine
    assert target_setup("pyocd", "nucleo_f446re", inventory_board="n2", inventory=inventory).options[
        "inventory_board"] == "n2"


def test_pyocd_board_alone_takes_every_entry_of_that_firmware(inventory):
    setup = target_setup("pyocd", "nucleo_f446re", inventory=inventory)
    assert (setup.firmware_board, setup.options["inventory_board"]) == ("nucleo_f446re", "n1,n2")
    setup = target_setup("pyocd", "netduinoplus2", inventory=inventory)
    assert (setup.firmware_board, setup.options["inventory_board"]) == ("netduinoplus2", "q")


def test_inventory_found_in_the_search_dir(inventory):
    setup = target_setup("pyocd", inventory_board="q", search_dir=inventory.parent)
    assert setup.options["inventory"] == str(inventory)


def test_errors(inventory, tmp_path):
    with pytest.raises(ConfigError, match="different firmware"):
        target_setup("pyocd", inventory_board="*", inventory=inventory)
    with pytest.raises(ConfigError, match="different firmware"):
        target_setup("pyocd", inventory=inventory)
    with pytest.raises(InventoryError, match="board 'zz'"):
        target_setup("pyocd", inventory_board="zz", inventory=inventory)
    with pytest.raises(ConfigError, match="needs a board inventory"):
        target_setup("pyocd", inventory_board="n1", search_dir=tmp_path / "empty")
    # an entry name given as --board (the old meaning) is told where it belongs
    with pytest.raises(ConfigError, match=r"no board has firmware_board 'n1' \(entries: n1 \(nucleo_f446re\), "
                                          r"n2 \(nucleo_f446re\), q \(netduinoplus2\)\); .*--inventory-board"):
        target_setup("pyocd", "n1", inventory=inventory)
    with pytest.raises(ConfigError, match="board 'q' runs firmware board 'netduinoplus2', not --board 'nucleo_f446re'"):
        target_setup("pyocd", "nucleo_f446re", inventory_board="n1,q", inventory=inventory)
    with pytest.raises(ConfigError, match="--inventory-board names boards.toml entries; it needs an inventory "
                                          "target \\(pyocd\\), not 'qemu'"):
        target_setup("qemu", inventory_board="n1")
