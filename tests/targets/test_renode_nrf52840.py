"""The nrf52840 board (firmware/boards/nrf52840), which QEMU cannot run: its image (built here in
CI), and the image on Renode's nRF52840 where Renode is provided: BOOT, INFO, ECHO of whole
frames through UARTE0's EasyDMA, machine Reset, and the DWT cost counter of the board's
renode.repl ticking once per executed instruction."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess

import pytest

from harness.firmware.build import build_firmware, list_boards
from harness.targets import create_target
from harness.targets.renode import BOARDS, RENODE_ENV

needs_cross = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")
needs_renode = pytest.mark.skipif(shutil.which(os.environ.get(RENODE_ENV) or "renode") is None,
                                  reason=f"Renode is not provided: set ${RENODE_ENV} or put `renode` on PATH "
                                         "(not packaged for Debian; see docs/real-boards.md)")
LINK_IRQ = 2           # UARTE0_UART0
RAM_BYTES = 256 * 1024


def _symbol(elf, name: str) -> int:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    return next(int(line.split()[0], 16) for line in out.splitlines() if line.split()[-1:] == [name])


def test_board_folder_and_renode_mapping():
    assert "nrf52840" in list_boards()
    assert BOARDS["nrf52840"].uart == "uart0" and BOARDS["nrf52840"].overlay == "renode.repl"


@needs_cross
def test_image_links_for_the_chip(tmp_path):
    image = build_firmware(board="nrf52840", build_dir=tmp_path)
    binary = image.bin.read_bytes()
    initial_sp, reset = struct.unpack_from("<II", binary, 0)
    assert _symbol(image.elf, "hil_vector_table") == 0x00000000      # flash at 0 on the nRF52840
    assert reset == _symbol(image.elf, "hil_reset_handler") | 1
    assert initial_sp == _symbol(image.elf, "__stack_top")
    assert struct.unpack_from("<I", binary, 4 * (16 + LINK_IRQ))[0] == _symbol(image.elf, "board_link_irq_handler") | 1
    assert _symbol(image.elf, "hil_noinit") == 0x20000000 + RAM_BYTES - 16
    # EasyDMA reaches RAM only: the RX byte and the TX bounce buffer must be there
    for name in ("rx_cell", "tx_chunk"):
        assert 0x20000000 <= _symbol(image.elf, name) < 0x20000000 + RAM_BYTES


@needs_renode
def test_nrf52840_on_renode(tmp_path):
    image = build_firmware(board="nrf52840", engine="none")
    with create_target("renode", board="nrf52840", run_dir=tmp_path) as target:
        target.start(image)
        client = target.connect()
        info = client.info()
        assert (info.board, info.build_id, info.cost_unit) == ("nrf52840", image.build_id, "cycles")
        payload = bytes(range(256)) * 8
        assert client.echo(payload, timeout_s=10) == payload
        assert client.echo(b"") == b""
        again = target.connect()                      # pause, machine Reset (reset macro), start
        assert again.boot_info.build_id == image.build_id
        assert again.echo(b"nrf52840") == b"nrf52840"
        # the board's DWT: CYCCNT runs (Renode's nrf52840.repl places none; renode.repl does)
        cyccnt = [int(target.monitor.execute("sysbus ReadDoubleWord 0xE0001004"), 0) for _ in range(2)]
        assert cyccnt[1] > cyccnt[0] > 0
