"""No emulator outlives `hil`, on either backend, when the emulator is started by a launcher script
that does not ``exec`` (as Renode's ``renode`` starts ``mono Renode.exe``): after Ctrl-C
(SIGINT), SIGTERM, and ``kill -9`` of ``hil`` itself.

``kill -9`` is the hard case: ``hil`` runs no cleanup, and PR_SET_PDEATHSIG kills only the
launcher, not the emulator it started. The process group's guard (harness.process) does it.

QEMU: a ``qemu-system-arm`` launcher script first on PATH, running the real QEMU as its child.
Renode: the real ``renode`` launcher where Renode is provided ($HIL_RENODE or PATH), else a
``renode`` launcher script running the replaying fake (tests/targets/renode_fake.py) as its child.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from polling import poll_until
from harness.targets.renode import RENODE_ENV
from tests.support.signalled_child import popen_signalled
from tests.targets.renode_fake import install_fake_renode

REPO = Path(__file__).resolve().parents[2]
HIL = Path(sys.executable).parent / "hil"
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]


def _real_renode() -> str | None:
    return shutil.which(os.environ.get(RENODE_ENV) or "renode")


def _state(pid: int) -> str | None:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def _alive(pid: int) -> bool:
    return _state(pid) not in (None, "Z", "X")


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read()
            cmdline = open(f"/proc/{entry}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        table[int(entry)] = (int(stat.rsplit(")", 1)[1].split()[1]), cmdline)
    return table


def _descendants(root: int) -> dict[int, str]:
    table = _processes()
    found, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, cmdline) in table.items():
            if ppid == parent and pid not in found:
                found[pid] = cmdline
                frontier.append(pid)
    return found


def _launcher_dir(tmp_path: Path, name: str, body: str) -> Path:
    bin_dir = tmp_path / "launchers"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / name
    script.write_text("#!/bin/sh\n# a launcher that does not exec: the emulator is its child\n" + body + "\n")
    script.chmod(0o755)
    return bin_dir


@pytest.fixture
def subreaper():
    """Orphans re-parent to this test process (not PID 1), so the test sees and reaps them."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)   # PR_SET_CHILD_SUBREAPER
    yield
    libc.prctl(36, 0, 0, 0, 0)
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                break
        except ChildProcessError:
            break


@pytest.fixture(scope="module")
def link_elf():
    from harness.firmware.build import build_firmware
    return build_firmware(board="netduinoplus2", engine="none").elf


def _backend(kind: str, tmp_path: Path, monkeypatch) -> tuple[str, str]:
    """(target name, what the emulator's command line contains) with a launcher first on PATH."""
    if kind == "qemu":
        qemu = shutil.which("qemu-system-arm")
        if qemu is None:
            pytest.fail("qemu-system-arm not installed; run scripts/setup.sh")
        bin_dir = _launcher_dir(tmp_path, "qemu-system-arm", f'"{qemu}" "$@"')
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        return "qemu", qemu
    real = _real_renode()
    if real is not None:
        monkeypatch.setenv(RENODE_ENV, real)   # the real launcher: a bash script starting mono
        return "renode", "Renode.exe"
    fake = install_fake_renode(tmp_path / "fake", monkeypatch, exec_child=False)
    return "renode", str(fake.parent / "renode_fake.py")


@pytest.mark.parametrize("signum", SIGNALS, ids=[s.name for s in SIGNALS])
@pytest.mark.parametrize("kind", ["qemu", "renode"])
def test_no_emulator_outlives_hil(kind, signum, link_elf, tmp_path, monkeypatch, subreaper):
    target, marker = _backend(kind, tmp_path, monkeypatch)
    hil = popen_signalled([str(HIL), "echo", "--target", target, "--elf", str(link_elf),
                           "--bytes", "100000000", "--timeout", "30", "--boot-timeout", "60"],
                          cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        def emulator_and_guard():
            tree = _descendants(hil.pid)
            emulators = [pid for pid, cmdline in tree.items() if marker in cmdline and "/bin/sh" not in cmdline]
            launchers = [pid for pid, cmdline in tree.items() if emulators and pid not in emulators
                         and "hil-group-guard" not in cmdline]
            guards = [pid for pid, cmdline in tree.items() if "hil-group-guard" in cmdline]
            echoing = any(conn for conn in _tcp_connections(emulators))
            return (emulators, launchers, guards) if emulators and guards and echoing else None

        found = poll_until(emulator_and_guard, 60, interval_s=0.05,
                           what=f"hil's {kind} emulator (under its launcher) with a connected link")
        emulators, launchers, _ = found
        # the emulator is the launcher's child, not hil's: PDEATHSIG alone would not reach it
        table = _processes()
        assert all(table[pid][0] != hil.pid for pid in emulators), (found, table.get(emulators[0]))
        os.kill(hil.pid, signum)
        hil.wait(timeout=30)
        watched = emulators + launchers
        try:
            poll_until(lambda: not any(_alive(pid) for pid in watched), 10, interval_s=0.02,
                       what=f"{kind} processes {watched} to end")
        except TimeoutError:
            left = {pid: _processes().get(pid) for pid in watched if _alive(pid)}
            pytest.fail(f"{kind} processes outlived hil killed by {signum.name}: {left}")
    finally:
        if hil.poll() is None:
            hil.kill()
            hil.wait(timeout=10)
        for pid in _descendants(os.getpid()):
            if marker in _processes().get(pid, (0, ""))[1]:
                os.kill(pid, signal.SIGKILL)
    if signum != signal.SIGKILL:
        assert hil.returncode != 0   # interrupted, not finished


def _tcp_connections(pids: list[int]) -> list[str]:
    """Established TCP sockets held by ``pids`` (the link is connected once there is one)."""
    inodes = set()
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except (FileNotFoundError, PermissionError):
            continue
    established = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "01" and fields[9] in inodes:   # 01 = ESTABLISHED
                established.append(fields[1])
    return established
