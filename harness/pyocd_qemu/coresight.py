"""The CoreSight and Cortex-M debug registers the QEMU probe models: the addresses and bits it
reads and writes, and the identification words it synthesises (QEMU maps no ROM table, and its
SCS ID registers carry the NVIC's IDs), so pyOCD's discovery finds a Cortex-M4."""

from __future__ import annotations

# --- DP / AP model --------------------------------------------------------------------------------
DPIDR = 0x2BA01477            # ADIv5 DPv1 SW-DP, as on STM32F4
DP_ABORT_IDR, DP_CTRL_STAT, DP_SELECT, DP_RDBUFF = 0x0, 0x4, 0x8, 0xC
CSYSPWRUPREQ, CDBGPWRUPREQ = 1 << 30, 1 << 28
AHB_AP_IDR = 0x24770011       # Cortex-M4 AHB-AP
AP_CSW, AP_TAR, AP_DRW, AP_CFG, AP_BASE, AP_IDR = 0x00, 0x04, 0x0C, 0xF4, 0xF8, 0xFC
AP_BD0 = 0x10
ROM_TABLE = 0xE00FF000
AP_BASE_VALUE = ROM_TABLE | 0x3  # ADIv5 format, present
CSW_DEFAULT = 0x23000052     # DbgSwEnable, HPROT, 32-bit, single increment

# --- Cortex-M debug registers ---------------------------------------------------------------------
SCS = 0xE000E000
AIRCR, DFSR = 0xE000ED0C, 0xE000ED30
DHCSR, DCRSR, DCRDR, DEMCR = 0xE000EDF0, 0xE000EDF4, 0xE000EDF8, 0xE000EDFC
DBGKEY, VECTKEY = 0xA05F, 0x05FA
C_DEBUGEN, C_HALT, C_STEP, C_MASKINTS = 1 << 0, 1 << 1, 1 << 2, 1 << 3
S_REGRDY, S_HALT, S_RETIRE_ST, S_RESET_ST = 1 << 16, 1 << 17, 1 << 24, 1 << 25
DFSR_HALTED, DFSR_BKPT, DFSR_VCATCH = 1 << 0, 1 << 1, 1 << 3
VC_CORERESET = 1 << 0
AIRCR_VECTRESET, AIRCR_SYSRESETREQ = 1 << 0, 1 << 2
REGWNR = 1 << 16


def _id_block(pidr: tuple[int, ...], cidr: tuple[int, ...]) -> dict[int, int]:
    """Offsets 0xFD0..0xFFC of a CoreSight component: PIDR4-7, PIDR0-3, CIDR0-3."""
    values = dict(zip(range(0xFD0, 0xFE0, 4), (pidr[4], 0, 0, 0)))
    values.update(zip(range(0xFE0, 0xFF0, 4), pidr[:4]))
    values.update(zip(range(0xFF0, 0x1000, 4), cidr))
    return values


def _rom_table_words() -> dict[int, int]:
    words = {0x000: ((SCS - ROM_TABLE) & 0xFFFFF000) | 0x3,  # SCS, 32-bit format, present
             0x004: 0x0,                                       # end of table
             0xFCC: 0x1}                                       # MEMTYPE: system memory present
    words.update(_id_block((0xC4, 0xB4, 0x0B, 0x00, 0x04), (0x0D, 0x10, 0x05, 0xB1)))
    return {ROM_TABLE + offset: value for offset, value in words.items()}


# Cortex-M4 SCS identification (ARM, part 0x00C, class 0xE)
SCS_ID = {SCS + offset: value
           for offset, value in _id_block((0x0C, 0xB0, 0x0B, 0x00, 0x04), (0x0D, 0xE0, 0x05, 0xB1)).items()}
ROM_WORDS = _rom_table_words()

