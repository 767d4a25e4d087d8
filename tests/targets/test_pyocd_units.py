"""Pieces of the pyOCD path that need neither QEMU nor a board: RSP framing, the register map,
probe ids, the virtual DP/AP and ROM table, and busy-port detection."""

from __future__ import annotations

import errno

import pytest

from harness.errors import LinkError
from harness.pyocd_qemu.coresight import AHB_AP_IDR, DPIDR, ROM_TABLE
from harness.pyocd_qemu.probe import QemuGdbProbe, parse_unique_id
from harness.pyocd_qemu.rsp import checksum, frame, parse_register_map
from harness.targets.pyocd_board import is_busy_port_error

TARGET_XML = ('<?xml version="1.0"?><target><architecture>arm</architecture>'
              '<xi:include href="core.xml"/><xi:include href="vfp.xml"/></target>')
FEATURES = {
    "target.xml": TARGET_XML,
    "core.xml": "<feature>" + "".join(f'<reg name="r{i}" bitsize="32"/>' for i in range(13))
                + '<reg name="sp" bitsize="32"/><reg name="lr" bitsize="32"/><reg name="pc" bitsize="32"/>'
                '<reg name="xpsr" bitsize="32" regnum="25"/></feature>',
    "vfp.xml": '<feature><reg name="d0" bitsize="64"/><reg name="d1" bitsize="64"/>'
               '<reg name="fpscr" bitsize="32"/></feature>',
}


def test_rsp_framing():
    assert frame("g") == b"$g#67"
    assert frame("m8000000,4") == b"$m8000000,4#" + f"{checksum(b'm8000000,4'):02x}".encode()


def test_register_map_follows_gdb_numbering():
    names = parse_register_map(FEATURES.__getitem__)
    assert names["r0"] == 0 and names["pc"] == 15 and names["xpsr"] == 25
    assert names["d0"] == 26 and names["d1"] == 27 and names["fpscr"] == 28
    regmap = QemuGdbProbe._build_regmap(names)
    assert regmap[16] == (25, -1) and regmap[17] == (13, -1)       # xPSR, MSP mirrors SP
    assert regmap[0x40] == (26, 0) and regmap[0x43] == (27, 1)     # s0 = low half of d0, s3 = high of d1
    assert regmap[33] == (28, -1) and 18 not in regmap             # FPSCR; no PSP in QEMU 7.2


@pytest.mark.parametrize("text, expected", [("qemu:127.0.0.1:3333", ("127.0.0.1", 3333)),
                                            ("localhost:1234", ("localhost", 1234)), ("4444", ("127.0.0.1", 4444))])
def test_probe_ids(text, expected):
    assert parse_unique_id(text) == expected


def test_bad_probe_id():
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_unique_id("qemu:nohost")


def test_virtual_dp_ap_and_rom_table():
    probe = QemuGdbProbe("127.0.0.1:1")  # never opened: only the register model is used
    assert probe.read_dp(0x0) == DPIDR
    probe.write_dp(0x4, 0x50000000)  # CSYSPWRUPREQ | CDBGPWRUPREQ
    assert probe.read_dp(0x4) & 0xA0000000 == 0xA0000000
    assert probe.read_ap(0xFC) == AHB_AP_IDR and probe.read_ap(0xF8) == ROM_TABLE | 3
    assert probe.read_ap((1 << 24) | 0xFC) == 0  # AP#1 absent: pyOCD stops scanning
    assert probe.read_ap(0xFC, now=False)() == AHB_AP_IDR
    rom = probe.read_bytes(ROM_TABLE, 8)
    assert int.from_bytes(rom[:4], "little") == 0xFFF0F003 and rom[4:] == bytes(4)  # SCS entry, end
    cidr = [probe.read_bytes(ROM_TABLE + offset, 4)[0] for offset in (0xFF0, 0xFF4, 0xFF8, 0xFFC)]
    assert cidr == [0x0D, 0x10, 0x05, 0xB1]  # class 1: ROM table
    assert probe.read_bytes(0xE000EFE0, 4)[0] == 0x0C  # SCS part number 0x00C (Cortex-M4 SCS)


def test_busy_port_detection():
    busy = LinkError("cannot open link /dev/ttyACM0")
    busy.__cause__ = OSError(errno.EBUSY, "Device or resource busy")
    assert is_busy_port_error(busy)
    assert is_busy_port_error(LinkError("could not open port: [Errno 16] Device or resource busy"))
    refused = LinkError("cannot open link socket://127.0.0.1:1")
    refused.__cause__ = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    assert not is_busy_port_error(refused)


def test_plugin_loads_through_pyocds_entry_point_mechanism(tmp_path):
    """With ``[project.entry-points."pyocd.probe"] qemu = "harness.pyocd_qemu.probe:QemuGdbProbePlugin"``
    installed, pyOCD's own plugin loader registers the probe (simulated with a dist-info on sys.path)."""
    import subprocess
    import sys
    from pathlib import Path
    dist = tmp_path / "hil_pyocd_qemu_plugin-0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hil-pyocd-qemu-plugin\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text("[pyocd.probe]\nqemu = harness.pyocd_qemu.probe:QemuGdbProbePlugin\n")
    repo = Path(__file__).resolve().parents[2]
    code = ("from pyocd.probe.aggregator import PROBE_CLASSES\n"
            "from harness.pyocd_qemu.probe import QemuGdbProbe\n"
            "assert PROBE_CLASSES['qemu'] is QemuGdbProbe, PROBE_CLASSES\n"
            "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": f"{tmp_path}:{repo}", "PATH": "/usr/bin:/bin"})
    assert result.stdout.strip() == "ok", result.stderr[-2000:]
