"""Two builds of one folder at once (two hil processes, two pytest-xdist workers) take turns:
both succeed with the same image, and a waiter that gives up names the holder."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

import pytest

from harness.errors import LockBusyError
from harness.file_lock import FileLock

needs_cross = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("make") is None,
                                 reason="arm-none-eabi-gcc and make are needed (scripts/setup.sh)")


@needs_cross
def test_two_processes_building_one_folder_both_get_the_same_image(tmp_path):
    script = textwrap.dedent(f"""
        from harness.firmware.build import build_firmware
        image = build_firmware(build_dir={str(tmp_path)!r}, jobs=1)
        print(image.build_id, image.text_bytes)
    """)
    builders = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for _ in range(2)]
    results = [builder.communicate(timeout=300) for builder in builders]
    assert [builder.returncode for builder in builders] == [0, 0], [err for _, err in results]
    first, second = (out.split() for out, _ in results)
    assert first == second and len(first) == 2
    assert int(first[1]) > 1000


def test_a_held_lock_makes_the_waiter_name_the_holder(tmp_path):
    path = tmp_path / ".build.lock"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from harness.file_lock import FileLock
        lock = FileLock({str(path)!r}).acquire(5.0)
        print("held", flush=True)
        sys.stdin.read()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockBusyError) as busy:
            FileLock(path).acquire(0.2)
        assert busy.value.holder["pid"] == holder.pid
        assert f"pid {holder.pid}" in str(busy.value) and "waited 0.2 s" in str(busy.value)
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    # the holder is gone, so the lock is free again, without anyone cleaning up
    with FileLock(path).acquire(1.0) as lock:
        assert lock.held
