"""The Cortex-M core debug registers (DHCSR, DCRSR, DCRDR, DEMCR, DFSR, AIRCR's reset
requests) emulated on top of the gdbstub's run control, and target memory with them overlaid.

C_HALT -> 0x03, clearing it -> ``c``, C_STEP -> ``s``; DCRSR/DCRDR -> ``p``/``P``. S_RESET_ST,
S_RETIRE_ST and DFSR.HALTED/BKPT/VCATCH are kept here. SYSRESETREQ/VECTRESET (and the probe's
nRESET) -> ``monitor system_reset`` while halted; the core then stays halted if
DEMCR.VC_CORERESET is set (pyOCD's reset-and-halt), otherwise it runs. Memory access while the
core runs stops the world: QEMU stops the VM on any byte from the debugger.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

from harness.pyocd_qemu.coresight import (
    SCS, AIRCR, DFSR, DHCSR, DCRSR, DCRDR, DEMCR, DBGKEY, VECTKEY, C_DEBUGEN, C_HALT, C_STEP,
    C_MASKINTS, S_REGRDY, S_HALT, S_RETIRE_ST, S_RESET_ST, DFSR_HALTED, DFSR_BKPT, DFSR_VCATCH,
    VC_CORERESET, AIRCR_VECTRESET, AIRCR_SYSRESETREQ, REGWNR, ROM_TABLE, ROM_WORDS, SCS_ID)

log = logging.getLogger(__name__)


class CoreDebug:
    """Mixin of the QEMU probe: the emulated core debug registers and memory. It uses the probe's
    ``_rsp(what)`` (a gdbstub connection, its failures as pyOCD's exceptions) and ``remote``,
    and keeps its state in the attributes ``_init_core_debug`` sets."""

    def _init_core_debug(self) -> None:
        self._dhcsr_ctrl = 0      # C_* bits as last written
        self._dcrdr = 0
        self._demcr = 0
        self._dfsr = 0
        self._reset_sticky = False
        self._retired = False
        self._regmap: dict[int, tuple[int, int]] = {}  # pyOCD regsel -> (gdb regnum, half for S regs)
        self.stats = {"bytes_written": 0, "bytes_read": 0, "resets": 0, "halts": 0}

    # --- registers the gdbstub has -----------------------------------------------------------------

    @staticmethod
    def _build_regmap(gdb_names: dict[str, int]) -> dict[int, tuple[int, int]]:
        regmap = {index: (gdb_names[f"r{index}"], -1) for index in range(13)}
        regmap.update({13: (gdb_names["sp"], -1), 14: (gdb_names["lr"], -1), 15: (gdb_names["pc"], -1),
                       16: (gdb_names["xpsr"], -1), 17: (gdb_names["sp"], -1)})  # MSP: see probe.py
        if "fpscr" in gdb_names:
            regmap[33] = (gdb_names["fpscr"], -1)
        for index in range(32):
            name = f"d{index // 2}"
            if name in gdb_names:
                regmap[0x40 + index] = (gdb_names[name], index % 2)
        return regmap


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
        if address in ROM_WORDS:
            return ROM_WORDS[address]
        if ROM_TABLE <= address < ROM_TABLE + 0x1000:
            return 0
        if address in SCS_ID:
            return SCS_ID[address]
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
        if ROM_TABLE <= address < ROM_TABLE + 0x1000 or address in SCS_ID:
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

