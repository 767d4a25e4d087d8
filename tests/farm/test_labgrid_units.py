"""The labgrid target's pieces without a farm: reading ``labgrid-client show``, the link URL and
probe id of a place's resources, a stale holder."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from harness.errors import ConfigError
from harness.farm.client import LabgridClient, PlaceResource
from harness.targets import create_target
from harness.targets.labgrid_place import holder_is_stale, link_url, probe_id

SHOW = """Place 'p1':
  matches:
    loopback/p1/*
  acquired: vm/u1
  acquired resources:
    loopback/p1/NetworkSerialPort/RawSerialPort
    loopback/p1/NetworkService/gdbstub
Acquired resource 'RawSerialPort' (loopback/p1/NetworkSerialPort/RawSerialPort):
  {'acquired': 'p1',
   'avail': True,
   'cls': 'NetworkSerialPort',
   'params': {'extra': {'path': '/dev/pts/0', 'proxy': 'localhost', 'proxy_required': False},
              'host': '127.0.0.1',
              'port': 37025,
              'speed': 115200}}
Acquired resource 'gdbstub' (loopback/p1/NetworkService/gdbstub):
  {'acquired': 'p1',
   'avail': False,
   'cls': 'NetworkService',
   'params': {'address': '127.0.0.1', 'port': 50581, 'username': ''}}
"""


def test_show_is_read_into_resources_and_the_holder(monkeypatch):
    client = LabgridClient("127.0.0.1:1")
    monkeypatch.setattr(client, "show", lambda place: SHOW)
    serial, probe = client.resources("p1")
    assert (serial.exporter, serial.group, serial.cls, serial.name) == ("loopback", "p1", "NetworkSerialPort",
                                                                         "RawSerialPort")
    assert serial.params["port"] == 37025 and serial.available and not probe.available
    assert link_url(serial) == "rfc2217://127.0.0.1:37025?ign_set_control"
    assert probe_id(probe) == "qemu:127.0.0.1:50581"
    assert client.holder("p1") == "vm/u1"


def test_probe_kinds_and_raw_ports():
    server = PlaceResource("lab-1", "nucleo", "NetworkService", "pyocd", {"address": "lab-1", "port": 5555})
    assert probe_id(server) == "remote:lab-1:5555"
    with pytest.raises(ConfigError, match="neither"):
        probe_id(PlaceResource("e", "g", "NetworkService", "ssh", {"address": "x", "port": 22}))
    raw = PlaceResource("e", "g", "NetworkSerialPort", "uart", {"host": "h", "port": 7, "protocol": "raw"})
    assert link_url(raw) == "socket://h:7"


def test_a_holder_is_stale_only_when_its_process_on_this_host_is_gone():
    proc = subprocess.Popen(["true"])
    proc.wait()
    host = socket.gethostname()
    assert holder_is_stale(f"{host}/alice.hil-{proc.pid}-1")
    assert not holder_is_stale(f"{host}/alice.hil-{os.getpid()}-1")
    assert not holder_is_stale(f"other-host/alice.hil-{proc.pid}-1")
    assert not holder_is_stale(f"{host}/alice") and not holder_is_stale(None)


def test_a_place_is_needed(monkeypatch):
    monkeypatch.delenv("LG_PLACE", raising=False)
    with pytest.raises(ConfigError, match="needs a place"):
        create_target("labgrid")
    monkeypatch.setenv("LG_PLACE", "p1, p2")
    assert create_target("labgrid").places == ["p1", "p2"]


def test_place_tags_are_read(monkeypatch):
    client = LabgridClient("127.0.0.1:1")
    monkeypatch.setattr(client, "show", lambda place: SHOW.replace("  matches:", "  tags: board=nucleo, pyocd_target=stm32f446retx\n  matches:"))
    assert client.tags("p1") == {"board": "nucleo", "pyocd_target": "stm32f446retx"}
    monkeypatch.setattr(client, "show", lambda place: SHOW)
    assert client.tags("p1") == {}


@pytest.mark.parametrize("stderr, busy", [
    ("labgrid-client: Error: Place p1 is already acquired by vm/u1. To work simultaneously, ...", True),
    ("Server error: Place p1 was not reserved for vm/u2", True),
    ("Server error: Error: Failed to acquire resources for place p1\nMatching resource 'RawSerialPort' "
     "(loopback/p1/NetworkSerialPort/RawSerialPort) already acquired by place '<broken>'", False),
])
def test_a_held_place_is_told_from_a_broken_exporter(monkeypatch, stderr, busy):
    from harness.farm.client import FarmError, PlaceBusy
    client = LabgridClient("127.0.0.1:1")
    monkeypatch.setattr(client, "run", lambda *a, **k: subprocess.CompletedProcess(a, 1, "", stderr))
    monkeypatch.setattr(client, "holder", lambda place: "vm/u1")
    with pytest.raises(PlaceBusy if busy else FarmError) as caught:
        client.acquire("p1")
    assert isinstance(caught.value, PlaceBusy) == busy
