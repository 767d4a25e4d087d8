"""Port settings and discovery of a probe's virtual COM port (fake list_ports entries)."""

from __future__ import annotations

import pytest
import serial

from harness.boards.ports import (PortInfo, PortNotFound, find_port_for_probe, is_network_port, list_ports,
                                  normalise_port, resolve_port)

STLINK_UID = "066DFF485550755187121723"
PORTS = [
    PortInfo("/dev/ttyS0", None, "ttyS0"),
    PortInfo("/dev/ttyACM0", "0670FF50", "STM32 STLink", "ST-Link VCP Ctrl"),
    PortInfo("/dev/ttyACM1", STLINK_UID.lower(), "STM32 STLink", "ST-Link VCP Ctrl"),
    PortInfo("/dev/ttyACM2", "E6614C311B4A8B2D", "CMSIS-DAP", "CDC-ACM 0"),
    PortInfo("/dev/ttyACM3", "E6614C311B4A8B2D", "CMSIS-DAP", "CDC-ACM 1"),
]


def test_auto_finds_the_probe_port_case_insensitively():
    assert find_port_for_probe(STLINK_UID, PORTS) == "/dev/ttyACM1"
    assert resolve_port("auto", STLINK_UID, lister=lambda: PORTS) == "/dev/ttyACM1"


def test_explicit_ports_are_used_as_given():
    assert resolve_port("/dev/ttyUSB3", STLINK_UID, lister=lambda: []) == "/dev/ttyUSB3"
    assert resolve_port(" rfc2217://lab-2:4001 ", "x") == "rfc2217://lab-2:4001"


def test_no_match_lists_what_was_seen():
    with pytest.raises(PortNotFound) as excinfo:
        find_port_for_probe("DEADBEEF", PORTS)
    message = str(excinfo.value)
    assert "DEADBEEF" in message and "/dev/ttyACM0 serial=0670FF50" in message and "dialout" in message
    with pytest.raises(PortNotFound, match="no serial ports at all"):
        find_port_for_probe("DEADBEEF", [])


def test_several_matches_are_not_guessed():
    with pytest.raises(PortNotFound, match=r"2 serial ports: /dev/ttyACM2 \(CDC-ACM 0\), /dev/ttyACM3"):
        find_port_for_probe("E6614C311B4A8B2D", PORTS)


@pytest.mark.parametrize("port", ["rfc2217://lab-2:4001", "rfc2217://10.0.0.7:2217?timeout=3",
                                  "socket://127.0.0.1:5000", "loop://", "/dev/ttyACM0", "COM5", "auto"])
def test_valid_ports(port):
    assert normalise_port(port) == port


@pytest.mark.parametrize("port, words", [("", "empty"), ("rfc2217://lab-2", "HOST:PORT"),
                                         ("rfc2217://:4001", "HOST:PORT"), ("ftp://x:1", "unknown port URL")])
def test_invalid_ports(port, words):
    with pytest.raises(ValueError, match=words):
        normalise_port(port)


def test_network_ports():
    assert is_network_port("rfc2217://h:1") and is_network_port("socket://h:2")
    assert not is_network_port("/dev/ttyACM0") and not is_network_port("loop://")


def test_rfc2217_urls_are_understood_by_pyserial():
    link = serial.serial_for_url("rfc2217://lab-2.example:4001", do_not_open=True, baudrate=921600)
    assert type(link).__module__ == "serial.rfc2217" and link.baudrate == 921600


def test_list_ports_runs_here():
    assert isinstance(list_ports(), list)  # no boards here; just the real pyserial call
