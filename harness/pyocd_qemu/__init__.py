"""Run pyOCD's own code against QEMU: a ``qemu:HOST:PORT`` debug probe over QEMU's gdbstub and a
``qemu_netduinoplus2`` target type. See probe.py for what is emulated and target.py for flash.

    from harness.pyocd_qemu import register
    register()   # idempotent; pyOCD then resolves "qemu:127.0.0.1:PORT" and the target type
"""

from __future__ import annotations


def register() -> None:
    from harness.pyocd_qemu import probe, target
    probe.register()
    target.register()


__all__ = ["register"]
