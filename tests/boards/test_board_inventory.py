"""boards.toml parsing: good entries, defaults, and errors that name the file, board and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.boards import load_inventory, parse_inventory
from harness.errors import ConfigError, InventoryError

REPO = Path(__file__).resolve().parents[2]

GOOD = """
[defaults]
baud = 921600
lock_dir = "/tmp/hil-test-locks"

[boards.nucleo-1]
probe = "066DFF485550755187121723"
target = "stm32f446retx"
port = "auto"
firmware_board = "nucleo_f446re"

[boards.lab2-disco]
probe = "0670FF50"
target = "stm32f407vg"
port = "rfc2217://lab-2.example:4001"
baud = 115200
firmware_board = "netduinoplus2"
probe_server = "lab-2.example:5555"
frequency_hz = 1000000
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "boards.toml"
    path.write_text(text)
    return path


def test_good_inventory(tmp_path):
    inventory = load_inventory(write(tmp_path, GOOD), known_firmware_boards=["nucleo_f446re", "netduinoplus2"])
    assert sorted(inventory.boards) == ["lab2-disco", "nucleo-1"]
    assert str(inventory.lock_dir) == "/tmp/hil-test-locks"
    nucleo = inventory.board("nucleo-1")
    assert nucleo.baud == 921600  # from [defaults]
    assert nucleo.port_is_auto and nucleo.pyocd_unique_id == "066DFF485550755187121723"
    remote = inventory.board("lab2-disco")
    assert remote.baud == 115200 and remote.frequency_hz == 1_000_000
    assert remote.pyocd_unique_id == "remote:lab-2.example:5555"
    assert remote.port == "rfc2217://lab-2.example:4001"
    assert [b.name for b in inventory.select("*")] == ["lab2-disco", "nucleo-1"]
    assert [b.name for b in inventory.select("nucleo-1, lab2-disco")] == ["nucleo-1", "lab2-disco"]


def test_example_inventory_parses():
    from harness.firmware.build import list_boards
    inventory = load_inventory(REPO / "boards.example.toml", known_firmware_boards=list_boards())
    assert inventory.boards, "boards.example.toml has no boards"


@pytest.mark.parametrize("body, board, key, words", [
    ('[boards.b1]\ntarget = "t"\nport = "auto"\nfirmware_board = "netduinoplus2"\n', "b1", "probe", "missing"),
    ('[boards.b1]\nprobe = "X"\ntarget = "t"\nport = "auto"\nfirmware_board = "netduinoplus2"\nbaud = "fast"\n',
     "b1", "baud", "must be int"),
    ('[boards.b1]\nprobe = "X"\ntarget = "t"\nport = "auto"\nfirmware_board = "netduinoplus2"\nbaud = true\n',
     "b1", "baud", "must be int"),
    ('[boards.b1]\nprobe = "X"\ntarget = "t"\nport = "auto"\nfirmware_board = "netduinoplus2"\nbuad = 9600\n',
     "b1", "buad", "unknown key"),
    ('[boards.b1]\nprobe = "X"\ntarget = "t"\nport = "telnet://h:1"\nfirmware_board = "netduinoplus2"\n',
     "b1", "port", "unknown port URL scheme"),
    ('[boards.b1]\nprobe = "X"\ntarget = "t"\nport = "rfc2217://lab"\nfirmware_board = "netduinoplus2"\n',
     "b1", "port", "HOST:PORT"),
    ('[boards.b1]\nprobe = "X"\ntarget = "t"\nport = "auto"\nfirmware_board = "netduinoplus2"\n'
     'probe_server = "lab-2:5555"\n', "b1", "port", "on lab-2"),
    ('[boards.b1]\nprobe = "X"\ntarget = "t"\nport = "auto"\nfirmware_board = "netduinoplus2"\n'
     'probe_server = "lab-2"\n', "b1", "probe_server", "HOST:PORT"),
    ('[boards.b1]\nprobe = "X"\ntarget = "t"\nport = "auto"\nfirmware_board = "no_such_board"\n',
     "b1", "firmware_board", "no firmware board folder"),
    ('[boards.b1]\nprobe = "X"\ntarget = "t"\nport = "auto"\nfirmware_board = "netduinoplus2"\nbaud = 0\n',
     "b1", "baud", "positive"),
])
def test_errors_name_file_board_and_key(tmp_path, body, board, key, words):
    path = write(tmp_path, body)
    with pytest.raises(InventoryError) as excinfo:
        load_inventory(path, known_firmware_boards=["netduinoplus2", "nucleo_f446re"])
    error = excinfo.value
    assert isinstance(error, ConfigError)
    assert (error.path, error.board, error.key) == (str(path), board, key)
    message = str(error)
    assert str(path) in message and f"board '{board}'" in message and f"key '{key}'" in message
    assert words in message


def test_bad_defaults_and_tables(tmp_path):
    with pytest.raises(InventoryError, match="key 'defaults.speed'"):
        load_inventory(write(tmp_path, "[defaults]\nspeed = 1\n"))
    with pytest.raises(InventoryError, match="unknown table"):
        load_inventory(write(tmp_path, "[bords.x]\nprobe = 'y'\n"))
    with pytest.raises(InventoryError, match="not valid TOML"):
        load_inventory(write(tmp_path, "[boards.x\n"))
    with pytest.raises(InventoryError, match="not found"):
        load_inventory(tmp_path / "missing.toml")


def test_unknown_board_lists_known(tmp_path):
    inventory = parse_inventory({"boards": {"a": {"probe": "1", "target": "t", "port": "/dev/ttyACM0",
                                                  "firmware_board": "x"}}}, tmp_path / "b.toml")
    with pytest.raises(InventoryError, match=r"board 'zz'.*boards in this inventory: a"):
        inventory.board("zz")
