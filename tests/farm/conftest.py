"""The loopback labgrid farm: a coordinator, an exporter (ser2net over RFC 2217) and two emulated
boards (QEMU netduinoplus2 + socat pty + gdbstub), places p1 and p2. One farm for the module;
every process it started is checked gone at teardown."""

from __future__ import annotations

import shutil
import subprocess

import pytest

labgrid = pytest.importorskip("labgrid", reason="the farm extra is not installed (pip install -e '.[farm]')")

from loopback_farm import LoopbackFarm  # noqa: E402
from harness.firmware.build import build_firmware  # noqa: E402

MISSING = [tool for tool in ("ser2net", "socat", "qemu-system-arm") if shutil.which(tool) is None
           and not (tool == "ser2net" and shutil.which("/usr/sbin/ser2net"))]


def _running(pids: list[str]) -> list[str]:
    """``PID STATE ARGS`` of those still running: a zombie (an orphan of the killed exporter that
    this container's init has not reaped yet) is dead, not left running."""
    if not pids:
        return []
    out = subprocess.run(["ps", "-o", "pid=,stat=,args=", "-p", ",".join(pids)], capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if line.split() and not line.split()[1].startswith("Z")]


def _group_members(pgids: list[int]) -> list[str]:
    pids = []
    for pgid in pgids:
        pids += subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True).stdout.split()
    return _running(pids)


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
        left += _running(subprocess.run(["pgrep", "-f", str(work_dir)], capture_output=True, text=True).stdout.split())
        assert not left, f"farm processes left running: {left}"
