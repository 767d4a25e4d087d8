"""The DSP instructions the portable engine's optimized kernels rely on, run on Renode's
Cortex-M4 (the emulator users run besides QEMU), one short program each:

- MAX_POOL_2D (pooling_fast.c): the signed byte maximum as (b + UQSUB8(a, b)) on bytes biased by
  0x80 (EOR 0x80808080). It replaced SSUB8 + SEL, whose GE flags Renode 1.15.3 sets from the
  wrapped difference (tests/targets/test_renode_isa.py pins that);
- CONV_2D (conv_fast.c): SMLAD on int16 pairs of both signs, and its 32-bit wrap-around;
- FULLY_CONNECTED (fully_connected_fast.c): SXTB16 of the even bytes and, rotated, the odd ones.

Skips without Renode ($HIL_RENODE or `renode` on PATH); QEMU runs the same instructions in every
test of test_engine_kernel_paths.py.
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

PROGRAM = """
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
    ldr r4, =0x80808080
    eor r0, r0, r4
    eor r1, r1, r4
    uqsub8 r2, r0, r1       /* per byte max(a - b, 0) */
    add r2, r2, r1          /* b + (a -sat b) = max(a, b), no carry between bytes */
    eor r3, r2, r4          /* r3: the signed byte maximum */
    ldr r5, =0x007FFF01     /* int16 pair (-255, 127): low -255, high 127 */
    ldr r6, =0xFF81FF01     /* int16 pair (-255, -127) */
    ldr r7, =0x7FFFFF00     /* accumulator near INT32_MAX */
    smlad r8, r5, r6, r7    /* 0x7FFFFF00 + 65025 - 16129 wraps past INT32_MAX */
    ldr r9, =0x80FF7F01     /* bytes 1, 127, -1, -128 */
    sxtb16 r10, r9          /* even bytes as int16: (1, -1) */
    sxtb16 r11, r9, ror #8  /* odd bytes: (127, -128) */
1:  b 1b
"""
STEPS = 16  # instructions up to and including the last sxtb16
SIGNED_BYTE_MAX = 0x0A107F01
SMLAD_RESULT = (0x7FFFFF00 + (-255) * (-255) + 127 * (-127)) & 0xFFFFFFFF
SXTB16_EVEN, SXTB16_ODD = 0xFFFF0001, 0xFF80007F

needs_renode = pytest.mark.skipif(shutil.which(os.environ.get(RENODE_ENV) or "renode") is None,
                                  reason=f"Renode is not provided: set ${RENODE_ENV} or put `renode` on PATH")


@pytest.fixture(scope="module")
def isa_elf(tmp_path_factory):
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        pytest.skip("arm-none-eabi-gcc not found")
    folder = tmp_path_factory.mktemp("dsp")
    (folder / "dsp.S").write_text(PROGRAM)
    subprocess.run([gcc, "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-Wl,-Ttext=0x08000000", "-Wl,-e,_start",
                    "-o", "dsp.elf", "dsp.S"], cwd=folder, check=True, timeout=60)
    return folder / "dsp.elf"


@needs_renode
def test_kernel_dsp_instructions_on_renode(isa_elf, tmp_path):
    script = tmp_path / "dsp.resc"
    script.write_text(f'mach create "isa"\nmachine LoadPlatformDescription @platforms/cpus/stm32f4.repl\n'
                      f"sysbus LoadELF @{isa_elf}\n")
    port = free_port()
    with open(tmp_path / "renode.log", "wb") as log:
        proc = spawn([renode_executable(), "--disable-xwt", "--plain", "--port", str(port), str(script)], log_file=log)
        try:
            monitor = RenodeMonitor.connect("127.0.0.1", port, timeout_s=60, alive=lambda: proc.poll() is None)
            deadline = Deadline(60)
            while monitor.prompt != "isa":
                monitor.read_until_prompt(deadline)
            monitor.execute(f"sysbus.cpu Step {STEPS}", timeout_s=30)
            r3 = parse_monitor_integer(monitor.execute("sysbus.cpu GetRegisterUnsafe 3"), "r3")
            r8 = parse_monitor_integer(monitor.execute("sysbus.cpu GetRegisterUnsafe 8"), "r8")
            r10 = parse_monitor_integer(monitor.execute("sysbus.cpu GetRegisterUnsafe 10"), "r10")
            r11 = parse_monitor_integer(monitor.execute("sysbus.cpu GetRegisterUnsafe 11"), "r11")
            monitor.quit()
            monitor.close()
        finally:
            terminate(proc, 10)
    assert r3 == SIGNED_BYTE_MAX, f"biased UQSUB8 maximum gave 0x{r3:08X}, expected 0x{SIGNED_BYTE_MAX:08X}"
    assert r8 == SMLAD_RESULT, f"SMLAD gave 0x{r8:08X}, expected 0x{SMLAD_RESULT:08X}"
    assert (r10, r11) == (SXTB16_EVEN, SXTB16_ODD), f"SXTB16 gave 0x{r10:08X}, 0x{r11:08X}"
