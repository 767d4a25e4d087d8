"""Run pyOCD's own code against QEMU: a ``qemu:HOST:PORT`` debug probe over QEMU's gdbstub and a
``qemu_netduinoplus2`` target type. See probe.py for what is emulated and target.py for flash.

    from harness.pyocd_qemu import register
    register()   # idempotent; pyOCD then resolves "qemu:127.0.0.1:PORT" and the target type
"""

from __future__ import annotations

# Importing pyOCD loads its probe plugins, ours among them (the "pyocd.probe" entry point). Do it
# before any module of this package starts, or pyOCD would find probe.py half-initialised.
import pyocd  # noqa: F401,E402


def register() -> None:
    from harness.pyocd_qemu import probe, target
    probe.register()
    target.register()


__all__ = ["register"]
