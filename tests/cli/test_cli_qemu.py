"""``hil`` as a user runs it: subprocesses against real QEMU and the real firmware."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys

import pytest
from signalled_child import popen_signalled

from polling import poll_until, process_gone

pytestmark = pytest.mark.hil_device

HIL = [sys.executable, "-m", "harness"]


def run_hil(args: list[str], cwd, timeout_s: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(HIL + args, cwd=cwd, capture_output=True, text=True, timeout=timeout_s)


def fields(out: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in out.strip().splitlines())


def qemu_children(pid: int) -> list[int]:
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        info = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        if info.get("PPid", "").strip() == str(pid) and info.get("Name", "").strip() == "qemu-system-arm" \
                and info.get("State", "").split()[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def written_bytes(pid: int) -> int:
    try:
        io = dict(line.split(": ") for line in pathlib.Path(f"/proc/{pid}/io").read_text().splitlines())
    except OSError:
        return 0
    return int(io["wchar"])


def test_hil_info(hil_firmware, tmp_path):
    result = run_hil(["info", "--target", "qemu", "--elf", str(hil_firmware.elf)], tmp_path)
    assert result.returncode == 0, result.stderr
    info = fields(result.stdout)
    assert info["board"] == "netduinoplus2"
    assert info["protocol_version"] == "1"
    assert info["build_id"] == hil_firmware.build_id
    assert int(info["max_payload"]) >= 64


def test_hil_echo(hil_firmware, tmp_path):
    result = run_hil(["echo", "--target", "qemu", "--elf", str(hil_firmware.elf), "--bytes", "20000",
                      "--seed", "3"], tmp_path)
    assert result.returncode == 0, result.stderr
    out = fields(result.stdout)
    assert out["bytes"] == "20000" and out["verified"] == "every byte"
    for key in ("round_trip_kBps", "host_to_device_kBps", "device_to_host_kBps"):
        assert 1.0 < float(out[key]) < 100_000
    # the UART into the emulated device is the slow direction (PLATFORM.md)
    assert float(out["device_to_host_kBps"]) > float(out["host_to_device_kBps"])


def test_hil_info_bad_target_is_one_line(hil_firmware, tmp_path):
    result = run_hil(["info", "--target", "nope", "--elf", str(hil_firmware.elf)], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "known targets:" in result.stderr


def test_ctrl_c_on_hil_echo_leaves_no_qemu(hil_firmware, tmp_path):
    proc = popen_signalled(HIL + ["echo", "--target", "qemu", "--elf", str(hil_firmware.elf),
                                   "--bytes", "10000000"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        qemu_pids = poll_until(lambda: qemu_children(proc.pid) or proc.poll() is not None, 20,
                               what="hil echo to start qemu-system-arm")
        assert isinstance(qemu_pids, list), proc.communicate(timeout=5)
        # interrupt mid-echo: once QEMU has written 50 kB to its socket, requests are flowing
        poll_until(lambda: written_bytes(qemu_pids[0]) > 50_000, 30, interval_s=0.02,
                   what="echo traffic through qemu")
        os.kill(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=20)
        assert proc.returncode == 130, stderr
        assert "interrupted" in stderr
        poll_until(lambda: all(process_gone(pid) for pid in qemu_pids), 5, what=f"qemu {qemu_pids} to exit")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
