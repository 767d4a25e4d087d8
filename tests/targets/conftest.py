"""A do-nothing Cortex-M4 ELF so target tests run real QEMU without the project firmware."""

from __future__ import annotations

import shutil
import subprocess

import pytest

IDLE_S = """
    .syntax unified
    .thumb
    .section .text
    .global _start
    .word 0x20001000        /* initial SP */
    .word _start + 1        /* reset vector (thumb) */
_start:
    wfi
    b _start
"""


@pytest.fixture(scope="session")
def idle_elf(tmp_path_factory):
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        pytest.fail("arm-none-eabi-gcc not found; run scripts/setup.sh --install-only")
    folder = tmp_path_factory.mktemp("idle")
    (folder / "idle.S").write_text(IDLE_S)
    subprocess.run([gcc, "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-Wl,-Ttext=0x08000000", "-Wl,-e,_start",
                    "-o", "idle.elf", "idle.S"], cwd=folder, check=True, timeout=60)
    return folder / "idle.elf"
