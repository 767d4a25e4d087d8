"""Parsing the port QEMU chose from its stderr (the line also echoes our own ':0')."""

from __future__ import annotations

from harness.targets.qemu import parse_serial_port

REAL_LINE = ("qemu-system-arm: -serial tcp:127.0.0.1:0,server=on,wait=on,nodelay=on: info: "
             "QEMU waiting for connection on: disconnected:tcp:127.0.0.1:43335,server=on\n")


def test_real_qemu_7_2_line():
    assert parse_serial_port(REAL_LINE) == ("127.0.0.1", 43335)


def test_own_port_zero_echo_alone_is_not_a_port():
    assert parse_serial_port("qemu-system-arm: -serial tcp:127.0.0.1:0,server=on,wait=on,nodelay=on: info: ") is None


def test_partial_line_not_yet_a_port():
    # QEMU's write may be read mid-port: "...127.0.0.1:433" must not become port 433
    cut = REAL_LINE.index("43335") + 3
    assert parse_serial_port(REAL_LINE[:cut]) is None
    assert parse_serial_port(REAL_LINE[:cut + 2]) is None
    assert parse_serial_port(REAL_LINE[:cut + 3]) == ("127.0.0.1", 43335)


def test_port_among_other_lines():
    assert parse_serial_port("noise\n" + REAL_LINE + "more noise\n") == ("127.0.0.1", 43335)


def test_disconnected_port_zero_ignored():
    assert parse_serial_port("disconnected:tcp:127.0.0.1:0,server=on") is None


def test_empty():
    assert parse_serial_port("") is None
