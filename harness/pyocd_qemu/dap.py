"""The debug port the QEMU probe models: a virtual ADIv5 SW-DP (DPIDR 0x2BA01477, power-up
requests acked) with one AHB-AP (IDR 0x24770011, BASE -> the synthesised ROM table); AP#1.. read
IDR 0 (absent). Memory goes through the AP's accelerated memory interface, as pyOCD's ST-Link
probe does it."""

from __future__ import annotations

from pyocd.core.memory_interface import MemoryInterface

from harness.pyocd_qemu.coresight import (AHB_AP_IDR, AP_BASE, AP_BASE_VALUE, AP_BD0, AP_CFG, AP_CSW, AP_DRW,
                                          AP_IDR, AP_TAR, CDBGPWRUPREQ, CSW_DEFAULT, CSYSPWRUPREQ, DP_ABORT_IDR,
                                          DP_CTRL_STAT, DPIDR)


class VirtualDap:
    """Mixin of the QEMU probe: pyOCD's DP/AP register calls, answered from the model; AP memory
    through the probe's ``read_bytes``/``write_bytes``."""

    def _init_dap(self) -> None:
        self._ctrl_stat = 0
        self._csw = CSW_DEFAULT
        self._tar = 0
        self.memory_interface = GdbMemoryInterface(self)

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



class GdbMemoryInterface(MemoryInterface):
    """The AHB-AP's accelerated memory interface: gdbstub memory with the debug registers overlaid."""

    def __init__(self, probe):
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

