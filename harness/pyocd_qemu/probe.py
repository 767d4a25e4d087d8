"""A pyOCD debug probe that drives QEMU's gdbstub, so pyOCD's own session, CoreSight discovery,
Cortex-M run control, memory map, flash loader and reset code run against an emulated Cortex-M4.

Unique IDs: ``qemu:HOST:PORT`` (pyOCD's aggregator splits off ``qemu:``), e.g.
``ConnectHelper.session_with_chosen_probe(unique_id="qemu:127.0.0.1:3333", target_override=...)``.

What the probe does, and what it has to make up because QEMU 7.2 does not model it:

- DP and AP registers: a virtual ADIv5 SW-DP (DPIDR 0x2BA01477, power-up requests acked) with
  one AHB-AP (IDR 0x24770011, BASE -> ROM table at 0xE00FF000). AP#1.. read IDR 0 (absent). Memory
  goes through the gdbstub (``get_memory_interface_for_ap``), like pyOCD's ST-Link probe.
- ROM table at 0xE00FF000: *synthesised*; one entry, the SCS at 0xE000E000. QEMU maps nothing
  there, and its SCS ID registers carry the NVIC's IDs, not the Cortex-M4 SCS ones, so those
  (0xE000EFD0-FFF) are synthesised too. No DWT, FPB or ITM is listed (QEMU models none of them),
  so pyOCD has no hardware breakpoints or watchpoints here.
- DHCSR, DCRSR, DCRDR, DEMCR, DFSR: *emulated* on top of gdbstub run control. C_HALT -> 0x03,
  clearing it -> ``c``, C_STEP -> ``s``; DCRSR/DCRDR -> ``p``/``P``. S_RESET_ST, S_RETIRE_ST and
  DFSR.HALTED/BKPT/VCATCH are kept here.
- AIRCR SYSRESETREQ/VECTRESET writes and the probe's nRESET (``reset()``/``assert_reset``) ->
  ``monitor system_reset`` while halted; the core then stays halted if DEMCR.VC_CORERESET was set
  (pyOCD's reset-and-halt), otherwise it runs. QEMU reloads SP/PC from the vector table in flash.
- Registers QEMU 7.2's gdbstub does not expose: MSP reads/writes SP (correct in thread mode on
  the main stack, which is how the harness firmware runs); PSP, CONTROL/FAULTMASK/BASEPRI/PRIMASK
  read 0 and writes are ignored (logged).
- Memory access while the core runs: QEMU stops the VM on any byte from the debugger, so the
  probe halts, accesses and resumes ("stop the world"); real probes access memory non-intrusively.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager

from pyocd.core import exceptions
from pyocd.core.memory_interface import MemoryInterface
from pyocd.core.plugin import Plugin
from pyocd.probe.debug_probe import DebugProbe

from harness.pyocd_qemu.rsp import GdbRemote, RspDisconnected, RspError, RspTimeout

log = logging.getLogger(__name__)

PROBE_TYPE = "qemu"

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
_SCS_ID = {SCS + offset: value
           for offset, value in _id_block((0x0C, 0xB0, 0x0B, 0x00, 0x04), (0x0D, 0xE0, 0x05, 0xB1)).items()}
_ROM_WORDS = _rom_table_words()


def parse_unique_id(unique_id: str) -> tuple[str, int]:
    """"HOST:PORT" or "PORT" (or with a leading "qemu:") -> (host, port)."""
    text = unique_id.split(":", 1)[1] if unique_id.lower().startswith(PROBE_TYPE + ":") else unique_id
    host, _, port = text.rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError:
        raise ValueError(f"qemu probe id must be HOST:PORT, got '{unique_id}'") from None


class QemuGdbProbe(DebugProbe):
    """pyOCD DebugProbe over QEMU's gdbstub. Create through pyOCD with ``qemu:HOST:PORT``."""

    @classmethod
    def get_all_connected_probes(cls, unique_id=None, is_explicit=False):
        # Nothing to enumerate: a QEMU gdbstub is only found when named explicitly.
        return [cls(unique_id)] if (is_explicit and unique_id) else []

    @classmethod
    def get_probe_with_id(cls, unique_id, is_explicit=False):
        return cls(unique_id) if is_explicit else None

    def __init__(self, unique_id: str, *, timeout_s: float = 5.0):
        super().__init__()
        self._host, self._port = parse_unique_id(unique_id)
        self._timeout_s = timeout_s
        self._remote: GdbRemote | None = None
        self._protocol = None
        self._ctrl_stat = 0
        self._csw = CSW_DEFAULT
        self._tar = 0
        # emulated debug registers
        self._dhcsr_ctrl = 0      # C_* bits as last written
        self._dcrdr = 0
        self._demcr = 0
        self._dfsr = 0
        self._reset_sticky = False
        self._retired = False
        self._reset_asserted = False
        self._io_lock = threading.RLock()
        self._regmap: dict[int, tuple[int, int]] = {}  # pyOCD regsel -> (gdb regnum, half for S regs)
        self.memory_interface = _GdbMemoryInterface(self)
        self.stats = {"bytes_written": 0, "bytes_read": 0, "resets": 0, "halts": 0}

    # --- identity ----------------------------------------------------------------------------------

    @property
    def vendor_name(self) -> str:
        return "QEMU"

    @property
    def product_name(self) -> str:
        return "gdbstub"

    @property
    def unique_id(self) -> str:
        return f"{self._host}:{self._port}"

    @property
    def supported_wire_protocols(self):
        return [DebugProbe.Protocol.DEFAULT, DebugProbe.Protocol.SWD]

    @property
    def wire_protocol(self):
        return self._protocol

    @property
    def is_open(self) -> bool:
        return self._remote is not None

    @property
    def capabilities(self):
        return {DebugProbe.Capability.MANAGED_AP_SELECTION, DebugProbe.Capability.MANAGED_DPBANKSEL}

    # --- open/close --------------------------------------------------------------------------------

    def open(self) -> None:
        try:
            self._remote = GdbRemote.connect(self._host, self._port, timeout_s=self._timeout_s)
        except RspError as e:
            raise exceptions.ProbeError(f"QEMU gdbstub {self._host}:{self._port}: {e}") from e
        self._regmap = self._build_regmap(self._remote.registers)
        # QEMU stops the VM when a debugger attaches (and -S starts it stopped): the core is halted
        # by a debugger, which DHCSR shows as C_DEBUGEN|C_HALT, so pyOCD's "enable debug,
        # preserving the current state" keeps it halted.
        self._dhcsr_ctrl = C_DEBUGEN | C_HALT
        self._dfsr = DFSR_HALTED

    def close(self) -> None:
        remote, self._remote = self._remote, None
        if remote is None:
            return
        try:
            # Leave the VM running without a debugger, as a real probe leaves the board running.
            remote.detach()
        except RspError as e:
            log.debug("detach from gdbstub failed: %s", e)
        finally:
            remote.close()

    def connect(self, protocol=None) -> None:
        self._protocol = DebugProbe.Protocol.SWD

    def disconnect(self) -> None:
        self._protocol = None

    def set_clock(self, frequency) -> None:
        pass  # no wire

    @staticmethod
    def _build_regmap(gdb_names: dict[str, int]) -> dict[int, tuple[int, int]]:
        regmap = {index: (gdb_names[f"r{index}"], -1) for index in range(13)}
        regmap.update({13: (gdb_names["sp"], -1), 14: (gdb_names["lr"], -1), 15: (gdb_names["pc"], -1),
                       16: (gdb_names["xpsr"], -1), 17: (gdb_names["sp"], -1)})  # MSP: see module doc
        if "fpscr" in gdb_names:
            regmap[33] = (gdb_names["fpscr"], -1)
        for index in range(32):
            name = f"d{index // 2}"
            if name in gdb_names:
                regmap[0x40 + index] = (gdb_names[name], index % 2)
        return regmap

    # --- gdbstub plumbing --------------------------------------------------------------------------

    @property
    def remote(self) -> GdbRemote:
        if self._remote is None:
            raise exceptions.ProbeDisconnected(f"QEMU gdbstub {self.unique_id} is not open")
        return self._remote

    @contextmanager
    def _rsp(self, what: str):
        """Map gdbstub failures onto pyOCD's exception tree."""
        try:
            with self._io_lock:
                yield self.remote
        except RspDisconnected as e:
            raise exceptions.ProbeDisconnected(f"QEMU gdbstub {self.unique_id}: {e}") from e
        except RspTimeout as e:
            raise exceptions.TransferTimeoutError(f"{what}: {e}") from e
        except RspError as e:
            raise exceptions.TransferFaultError(f"{what}: {e}") from e

    def _is_halted(self) -> bool:
        with self._rsp("poll run state") as remote:
            was_running = remote.running
            halted = remote.poll_stop()
        if was_running and halted:
            self._note_stop()
        return halted

    def _note_stop(self) -> None:
        stop = self.remote.last_stop or ""
        # SIGTRAP (05) after continue means a breakpoint/step; SIGINT (02) is our own halt request
        self._dfsr |= DFSR_BKPT if stop[1:3] == "05" else DFSR_HALTED

    def _halt(self) -> None:
        with self._rsp("halt") as remote:
            if remote.running:
                remote.interrupt()
                self.stats["halts"] += 1
                self._dfsr |= DFSR_HALTED

    def _resume(self) -> None:
        with self._rsp("resume") as remote:
            if not remote.running:
                remote.cont()
                self._retired = True

    def _step(self) -> None:
        with self._rsp("step") as remote:
            remote.step()
            self._retired = True
            self._dfsr |= DFSR_HALTED

    def _system_reset(self) -> None:
        """SYSRESETREQ / nRESET: reset the machine; halt at the reset vector if vector catch is on."""
        with self._rsp("reset") as remote:
            if remote.running:
                remote.interrupt()
            remote.monitor("system_reset")
            self.stats["resets"] += 1
            self._reset_sticky = True
            if (self._dhcsr_ctrl & C_DEBUGEN) and (self._demcr & VC_CORERESET):
                self._dfsr |= DFSR_VCATCH
                self._dhcsr_ctrl |= C_HALT
            else:
                self._dhcsr_ctrl &= ~C_HALT
                remote.cont()
                self._retired = True

    @contextmanager
    def _stopped(self, what: str):
        """Real memory access: QEMU cannot while running, so stop the world around it."""
        with self._rsp(what) as remote:
            was_running = remote.running
            if was_running:
                remote.interrupt()
            try:
                yield remote
            finally:
                if was_running:
                    remote.cont()

    # --- emulated debug registers --------------------------------------------------------------------

    def _virtual_read(self, address: int) -> int | None:
        if address in _ROM_WORDS:
            return _ROM_WORDS[address]
        if ROM_TABLE <= address < ROM_TABLE + 0x1000:
            return 0
        if address in _SCS_ID:
            return _SCS_ID[address]
        if address == DHCSR:
            halted = self._is_halted()
            # the core sets C_HALT itself when it halts (step done, breakpoint, vector catch)
            value = (self._dhcsr_ctrl & (C_DEBUGEN | C_STEP | C_MASKINTS)) | S_REGRDY
            value |= (C_HALT | S_HALT) if halted else 0
            if self._reset_sticky:
                value |= S_RESET_ST
                self._reset_sticky = False
            if self._retired or not halted:
                value |= S_RETIRE_ST
                self._retired = False
            return value
        if address == DCRSR:
            return 0
        if address == DCRDR:
            return self._dcrdr
        if address == DEMCR:
            return self._demcr
        if address == DFSR:
            return self._dfsr
        return None

    def _virtual_write(self, address: int, value: int) -> bool:
        if ROM_TABLE <= address < ROM_TABLE + 0x1000 or address in _SCS_ID:
            return True  # read-only identification
        if address == DHCSR:
            if (value >> 16) != DBGKEY:
                return True  # writes without the key are ignored by the core
            self._write_dhcsr(value & 0xF)
            return True
        if address == DCRSR:
            self._write_dcrsr(value)
            return True
        if address == DCRDR:
            self._dcrdr = value
            return True
        if address == DEMCR:
            self._demcr = value
            return True
        if address == DFSR:
            self._dfsr &= ~value  # write one to clear
            return True
        if address == AIRCR and (value >> 16) == VECTKEY and value & (AIRCR_SYSRESETREQ | AIRCR_VECTRESET):
            self._system_reset()
            return True
        return False

    def _write_dhcsr(self, ctrl: int) -> None:
        self._dhcsr_ctrl = ctrl
        halted = self._is_halted()
        if not ctrl & C_DEBUGEN:
            if halted:
                self._resume()
        elif ctrl & C_HALT:
            if not halted:
                self._halt()
        elif halted:
            if ctrl & C_STEP:
                self._step()
            else:
                self._resume()

    def _write_dcrsr(self, value: int) -> None:
        regsel = value & 0x7F
        if not self._is_halted():
            return  # S_REGRDY is unknown while running; pyOCD checks halted state first
        mapping = self._regmap.get(regsel)
        with self._rsp(f"core register {regsel}") as remote:
            if mapping is None:
                if value & REGWNR:
                    log.info("QEMU gdbstub has no register for pyOCD regsel %d; write ignored", regsel)
                else:
                    self._dcrdr = 0
                return
            regnum, half = mapping
            if half < 0:
                if value & REGWNR:
                    remote.write_register(regnum, self._dcrdr)
                else:
                    self._dcrdr = remote.read_register(regnum) & 0xFFFFFFFF
                return
            double = remote.read_register(regnum)
            shift = 32 * half
            if value & REGWNR:
                double = (double & ~(0xFFFFFFFF << shift)) | (self._dcrdr << shift)
                remote.write_register(regnum, double, size_bytes=8)
            else:
                self._dcrdr = (double >> shift) & 0xFFFFFFFF

    # --- memory with the virtual registers overlaid ------------------------------------------------

    @staticmethod
    def _touches_virtual(address: int, length: int) -> bool:
        end = address + length
        return ((address < ROM_TABLE + 0x1000 and end > ROM_TABLE)
                or (address < SCS + 0x1000 and end > AIRCR))

    def read_bytes(self, address: int, length: int) -> bytes:
        if self._touches_virtual(address, length):
            return self._read_words_overlaid(address, length)
        with self._stopped(f"read {length} bytes at 0x{address:08x}") as remote:
            data = remote.read_memory(address, length)
        self.stats["bytes_read"] += length
        return data

    def _read_words_overlaid(self, address: int, length: int) -> bytes:
        start = address & ~3
        out = bytearray()
        for word_address in range(start, address + length, 4):
            value = self._virtual_read(word_address)
            if value is None:
                with self._stopped(f"read at 0x{word_address:08x}") as remote:
                    out += remote.read_memory(word_address, 4)
            else:
                out += value.to_bytes(4, "little")
        offset = address - start
        return bytes(out[offset:offset + length])

    def write_bytes(self, address: int, data: bytes) -> None:
        if self._touches_virtual(address, len(data)):
            if address % 4 == 0 and len(data) % 4 == 0:
                for offset in range(0, len(data), 4):
                    word = int.from_bytes(data[offset:offset + 4], "little")
                    if not self._virtual_write(address + offset, word):
                        with self._stopped(f"write at 0x{address + offset:08x}") as remote:
                            remote.write_memory(address + offset, data[offset:offset + 4])
                return
            # sub-word access into the SCS: only real registers take those
        with self._stopped(f"write {len(data)} bytes at 0x{address:08x}") as remote:
            remote.write_memory(address, data)
        self.stats["bytes_written"] += len(data)

    # --- DAP registers ---------------------------------------------------------------------------

    def read_dp(self, addr, now=True):
        register = addr & 0xC
        if register == DP_ABORT_IDR:
            value = DPIDR
        elif register == DP_CTRL_STAT:
            # acknowledge every power-up request at once (ACK bits sit one above each REQ)
            value = self._ctrl_stat | ((self._ctrl_stat & (CSYSPWRUPREQ | CDBGPWRUPREQ)) << 1)
        else:
            value = 0
        return value if now else (lambda: value)

    def write_dp(self, addr, data) -> None:
        if (addr & 0xC) == DP_CTRL_STAT:
            self._ctrl_stat = data & 0x5FFFFFFF

    def read_ap(self, addr, now=True):
        value = self._read_ap(addr)
        return value if now else (lambda: value)

    def _read_ap(self, addr: int) -> int:
        if (addr >> 24) & 0xFF:
            return 0  # only AP#0 exists
        register = addr & 0xFF
        if register == AP_IDR:
            return AHB_AP_IDR
        if register == AP_BASE:
            return AP_BASE_VALUE
        if register == AP_CFG:
            return 0
        if register == AP_CSW:
            return self._csw
        if register == AP_TAR:
            return self._tar
        if register == AP_DRW:
            value = int.from_bytes(self.read_bytes(self._tar & ~3, 4), "little")
            self._advance_tar()
            return value
        if AP_BD0 <= register < AP_BD0 + 0x10:
            return int.from_bytes(self.read_bytes((self._tar & ~0xF) + register - AP_BD0, 4), "little")
        return 0

    def write_ap(self, addr, data) -> None:
        if (addr >> 24) & 0xFF:
            return
        register = addr & 0xFF
        if register == AP_CSW:
            self._csw = data
        elif register == AP_TAR:
            self._tar = data
        elif register == AP_DRW:
            self.write_bytes(self._tar & ~3, int(data).to_bytes(4, "little"))
            self._advance_tar()
        elif AP_BD0 <= register < AP_BD0 + 0x10:
            self.write_bytes((self._tar & ~0xF) + register - AP_BD0, int(data).to_bytes(4, "little"))

    def _advance_tar(self) -> None:
        if (self._csw >> 4) & 0x3 == 1:  # AddrInc single
            self._tar = (self._tar + 4) & 0xFFFFFFFF

    def read_ap_multiple(self, addr, count=1, now=True):
        values = [self._read_ap(addr) for _ in range(count)]
        return values if now else (lambda: values)

    def write_ap_multiple(self, addr, values) -> None:
        for value in values:
            self.write_ap(addr, value)

    def get_memory_interface_for_ap(self, ap_address):
        return self.memory_interface if getattr(ap_address, "apsel", 0) == 0 else None

    # --- reset pin -------------------------------------------------------------------------------

    def reset(self) -> None:
        self._system_reset()

    def assert_reset(self, asserted: bool) -> None:
        if asserted and not self._reset_asserted:
            self._reset_asserted = True
            self._halt()  # held in reset: nothing runs
        elif not asserted and self._reset_asserted:
            self._reset_asserted = False
            self._system_reset()

    def is_reset_asserted(self) -> bool:
        return self._reset_asserted


class _GdbMemoryInterface(MemoryInterface):
    """The AHB-AP's accelerated memory interface: gdbstub memory with the debug registers overlaid."""

    def __init__(self, probe: QemuGdbProbe):
        self._probe = probe

    def write_memory(self, addr, data, transfer_size=32, **_kwargs) -> None:
        self._probe.write_bytes(addr, int(data).to_bytes(transfer_size // 8, "little"))

    def read_memory(self, addr, transfer_size=32, now=True, **_kwargs):
        value = int.from_bytes(self._probe.read_bytes(addr, transfer_size // 8), "little")
        return value if now else (lambda: value)

    def write_memory_block32(self, addr, data, **_kwargs) -> None:
        self._probe.write_bytes(addr, b"".join(int(word).to_bytes(4, "little") for word in data))

    def read_memory_block32(self, addr, size, **_kwargs):
        raw = self._probe.read_bytes(addr, size * 4)
        return [int.from_bytes(raw[i:i + 4], "little") for i in range(0, len(raw), 4)]

    def write_memory_block8(self, addr, data, **_kwargs) -> None:
        self._probe.write_bytes(addr, bytes(data))

    def read_memory_block8(self, addr, size, **_kwargs):
        return list(self._probe.read_bytes(addr, size))


class QemuGdbProbePlugin(Plugin):
    """pyOCD probe plugin (entry point group ``pyocd.probe``, name ``qemu``)."""

    def load(self):
        return QemuGdbProbe

    @property
    def name(self) -> str:
        return PROBE_TYPE

    @property
    def description(self) -> str:
        return "QEMU gdbstub (qemu:HOST:PORT)"


def register() -> None:
    """Make ``qemu:HOST:PORT`` probe ids work in this process.

    Does what pyOCD's plugin loader does for an installed ``pyocd.probe`` entry point (it fills
    ``pyocd.probe.aggregator.PROBE_CLASSES``), for when the harness is not installed with that
    entry point. Idempotent.
    """
    from pyocd.probe import aggregator
    plugin = QemuGdbProbePlugin()
    aggregator.PROBE_CLASSES.setdefault(plugin.name, plugin.load())
