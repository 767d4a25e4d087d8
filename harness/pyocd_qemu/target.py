"""pyOCD target type ``qemu_netduinoplus2``: QEMU's STM32F405 as pyOCD sees it through the probe.

The memory map is the STM32F405's (flash sectors 4x16 KiB, 64 KiB, 7x128 KiB at 0x08000000;
128 KiB SRAM at 0x20000000 - QEMU maps 192 KiB, the chip has 128 KiB there).

Flash: QEMU models the flash array as ROM (guest stores are ignored) and does not model the flash
interface (FLASH_KEYR/CR/SR at 0x40023C00), and a flash algorithm's BKPT does not stop the core
under QEMU's gdbstub. So the RAM-resident CMSIS flash algorithm a real STM32F4 uses cannot run.
:class:`DebugWriteFlash` stands in for it at the Flash API level: erase writes the erased value
(0xFF) over the sector, program writes the page, both through debugger memory writes, which QEMU
accepts into ROM. Everything above it - FileProgrammer, FlashLoader, FlashBuilder (sector/page
planning, smart-flash comparison, erase-then-program) - is pyOCD's own code.
"""

from __future__ import annotations

from pyocd.core.memory_map import FlashRegion, MemoryMap, RamRegion
from pyocd.coresight.coresight_target import CoreSightTarget
from pyocd.flash.flash import Flash

TARGET_TYPE = "qemu_netduinoplus2"


class DebugWriteFlash(Flash):
    """Flash driven by debugger memory writes instead of an on-chip algorithm (QEMU only)."""

    def __init__(self, target):
        super().__init__(target, None)

    @property
    def is_erase_all_supported(self) -> bool:
        return True

    def init(self, operation, address=None, clock=0, reset=False):
        self._active_operation = operation

    def uninit(self):
        self._active_operation = None

    def cleanup(self):
        self._active_operation = None

    def erase_all(self):
        self._fill_erased(self.region.start, self.region.length)

    def erase_sector(self, address):
        sector = self.get_sector_info(address)
        self._fill_erased(sector.base_addr, sector.size)

    def program_page(self, address, bytes):  # noqa: A002 - pyOCD's parameter name
        self.target.write_memory_block8(address, list(bytes))

    def _fill_erased(self, address: int, length: int) -> None:
        self.target.write_memory_block8(address, [self.region.erased_byte_value] * length)


class QemuNetduinoPlus2(CoreSightTarget):
    VENDOR = "QEMU"

    MEMORY_MAP = MemoryMap(
        FlashRegion(start=0x08000000, length=0x10000, sector_size=0x4000, page_size=0x400,
                    is_boot_memory=True, flash_class=DebugWriteFlash, erased_byte_value=0xFF),
        FlashRegion(start=0x08010000, length=0x10000, sector_size=0x10000, page_size=0x400,
                    flash_class=DebugWriteFlash, erased_byte_value=0xFF),
        FlashRegion(start=0x08020000, length=0xE0000, sector_size=0x20000, page_size=0x400,
                    flash_class=DebugWriteFlash, erased_byte_value=0xFF),
        RamRegion(start=0x20000000, length=0x20000),
    )

    def __init__(self, session):
        super().__init__(session, self.MEMORY_MAP)


def register() -> None:
    """Make ``target_override="qemu_netduinoplus2"`` known to pyOCD in this process. Idempotent."""
    from pyocd.target import TARGET
    TARGET.setdefault(TARGET_TYPE, QemuNetduinoPlus2)
