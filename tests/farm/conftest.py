"""The loopback labgrid farm: a coordinator, an exporter (ser2net over RFC 2217) and two emulated
boards (QEMU netduinoplus2 + socat pty + gdbstub), places p1 and p2. One farm for the module;
every process it started is checked gone at teardown."""

from __future__ import annotations

import shutil
import subprocess

import pytest

labgrid = pytest.importorskip("labgrid", reason="the farm extra is not installed (pip install -e '.[farm]')")

from harness.farm.loopback import LoopbackFarm  # noqa: E402
from harness.firmware.build import build_firmware  # noqa: E402

MISSING = [tool for tool in ("ser2net", "socat", "qemu-system-arm") if shutil.which(tool) is None
           and not (tool == "ser2net" and shutil.which("/usr/sbin/ser2net"))]


def _group_members(pgids: list[int]) -> list[str]:
    found = []
    for pgid in pgids:
        out = subprocess.run(["pgrep", "-a", "-g", str(pgid)], capture_output=True, text=True).stdout
        found += [line for line in out.splitlines() if line.strip()]
    return found


@pytest.fixture(scope="module")
def firmware():
    return build_firmware(engine="portable")


@pytest.fixture(scope="module")
def farm(tmp_path_factory):
    if MISSING:
        pytest.skip(f"the loopback farm needs {', '.join(MISSING)} (scripts/setup.sh installs them)")
    work_dir = tmp_path_factory.mktemp("farm")
    farm = LoopbackFarm(work_dir).start()
    pgids = [p.pid for p in farm.processes] + [b.pid for b in farm.boards.values()]
    try:
        yield farm
    finally:
        pgids += [p.pid for p in farm.processes]   # an exporter restarted by a test
        farm.stop()
        left = _group_members(sorted(set(pgids)))
        left += subprocess.run(["pgrep", "-a", "-f", str(work_dir)], capture_output=True, text=True).stdout.splitlines()
        assert not left, f"farm processes left running: {left}"
