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

Here: the pyOCD DebugProbe surface (identity, open/close, the gdbstub's failures as pyOCD's
exceptions, the reset pin, the plugin). The DP/AP model is dap.py, the core debug registers and
memory core_debug.py, the addresses and synthesised ID words coresight.py, the gdbstub client rsp.py.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager

from pyocd.core import exceptions
from pyocd.core.plugin import Plugin
from pyocd.probe.debug_probe import DebugProbe

from harness.pyocd_qemu.core_debug import CoreDebug
from harness.pyocd_qemu.coresight import C_DEBUGEN, C_HALT, DFSR_HALTED
from harness.pyocd_qemu.dap import VirtualDap
from harness.pyocd_qemu.rsp import GdbRemote, RspDisconnected, RspError, RspTimeout

log = logging.getLogger(__name__)

PROBE_TYPE = "qemu"


def parse_unique_id(unique_id: str) -> tuple[str, int]:
    """"HOST:PORT" or "PORT" (or with a leading "qemu:") -> (host, port)."""
    text = unique_id.split(":", 1)[1] if unique_id.lower().startswith(PROBE_TYPE + ":") else unique_id
    host, _, port = text.rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError:
        raise ValueError(f"qemu probe id must be HOST:PORT, got '{unique_id}'") from None


class QemuGdbProbe(VirtualDap, CoreDebug, DebugProbe):
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
        self._reset_asserted = False
        self._io_lock = threading.RLock()
        self._init_dap()
        self._init_core_debug()

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
