"""Where Renode's Cortex-M4 and QEMU's disagree, pinned with a four-instruction program.

Renode 1.15.3 (tlib) sets SSUB8's GE bits from the wrapped 8-bit difference instead of the
signed difference: for -128 - 1 (= -129, so GE0 = 0) it sets GE0 = 1, and the SEL after it
picks the wrong byte. The portable engine's MAX_POOL_2D kernel (pooling_fast.c, SSUB8 + SEL,
four channels at a time) then differs from TFLM on Renode when two int8 inputs are more than
127 apart, while QEMU runs it bit-exact. The test is ``xfail(strict=True)`` on the real Renode:
it fails (XPASS) the day Renode computes GE as the architecture says.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from harness.deadline import Deadline
from harness.process import free_port, spawn, terminate
from harness.targets.renode import RENODE_ENV, parse_monitor_integer, renode_executable
from harness.targets.renode_monitor import RenodeMonitor

SSUB8_SEL = """
    .syntax unified
    .cpu cortex-m4
    .thumb
    .section .text
    .global _start
    .word 0x20001000
    .word _start + 1
_start:
    ldr r0, =0x05F07F80     /* bytes -128, 127, -16, 5 */
    ldr r1, =0x0A108001     /* bytes    1, -128, 16, 10 */
    ssub8 r2, r0, r1        /* GE = 0b0010: only 127 - (-128) is >= 0 */
    sel r3, r0, r1          /* per byte GE ? r0 : r1 = the signed maximum */
1:  b 1b
"""
SIGNED_BYTE_MAX = 0x0A107F01   # max(-128, 1), max(127, -128), max(-16, 16), max(5, 10)

needs_renode = pytest.mark.skipif(shutil.which(os.environ.get(RENODE_ENV) or "renode") is None,
                                  reason=f"Renode is not provided: set ${RENODE_ENV} or put `renode` on PATH")


@pytest.fixture(scope="module")
def sel_elf(tmp_path_factory):
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        pytest.fail("arm-none-eabi-gcc not found; run scripts/setup.sh --install-only")
    folder = tmp_path_factory.mktemp("sel")
    (folder / "sel.S").write_text(SSUB8_SEL)
    subprocess.run([gcc, "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-Wl,-Ttext=0x08000000", "-Wl,-e,_start",
                    "-o", "sel.elf", "sel.S"], cwd=folder, check=True, timeout=60)
    return folder / "sel.elf"


@needs_renode
@pytest.mark.xfail(strict=True, raises=AssertionError, reason="Renode 1.15.3 sets SSUB8's GE bits from the wrapped difference")
def test_ssub8_sel_gives_the_signed_byte_maximum_on_renode(sel_elf, tmp_path):
    script = tmp_path / "sel.resc"
    script.write_text(f'mach create "isa"\nmachine LoadPlatformDescription @platforms/cpus/stm32f4.repl\n'
                      f"sysbus LoadELF @{sel_elf}\n")
    port = free_port()
    with open(tmp_path / "renode.log", "wb") as log:
        proc = spawn([renode_executable(), "--disable-xwt", "--plain", "--port", str(port), str(script)], log_file=log)
        try:
            monitor = RenodeMonitor.connect("127.0.0.1", port, timeout_s=60, alive=lambda: proc.poll() is None)
            deadline = Deadline(60)
            while monitor.prompt != "isa":
                monitor.read_until_prompt(deadline)
            monitor.execute("sysbus.cpu Step 4", timeout_s=30)   # ldr, ldr, ssub8, sel
            r3 = parse_monitor_integer(monitor.execute("sysbus.cpu GetRegisterUnsafe 3"), "r3")
            monitor.quit()
            monitor.close()
        finally:
            terminate(proc, 10)
    assert r3 == SIGNED_BYTE_MAX, f"SEL after SSUB8 gave 0x{r3:08X}, the signed byte maximum is 0x{SIGNED_BYTE_MAX:08X}"
