"""Tiny Cortex-M4 programs assembled here, so target tests run real emulators without the
project firmware: ``assemble(name, source)`` and a do-nothing ``idle_elf``."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.targets.programs import IDLE_S


@pytest.fixture(scope="session")
def assemble(tmp_path_factory):
    """Assembler source -> an ELF at the STM32F4's flash (0x08000000, vector table first)."""
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        pytest.fail("arm-none-eabi-gcc not found; run scripts/setup.sh --install-only")
    folder = tmp_path_factory.mktemp("programs")

    def build(name: str, source: str):
        (folder / f"{name}.S").write_text(source)
        subprocess.run([gcc, "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-Wl,-Ttext=0x08000000", "-Wl,-e,_start",
                        "-o", f"{name}.elf", f"{name}.S"], cwd=folder, check=True, timeout=60)
        return folder / f"{name}.elf"
    return build


@pytest.fixture(scope="session")
def idle_elf(assemble):
    return assemble("idle", IDLE_S)
