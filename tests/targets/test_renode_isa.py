"""Where Renode's Cortex-M4 and QEMU's disagree, and the DSP instructions the portable engine's
optimized kernels rely on, each run on the real Renode as a short program (skipped without
Renode: $HIL_RENODE or `renode` on PATH; QEMU runs the kernels' instructions in every test of
tests/engine/test_engine_kernel_paths.py).

- Renode 1.15.3 (tlib) sets SSUB8's GE bits from the wrapped 8-bit difference instead of the
  signed one: for -128 - 1 (= -129, so GE0 = 0) it sets GE0 = 1, and the SEL after it picks the
  wrong byte. ``xfail(strict=True)``: it fails (XPASS) the day Renode computes GE as the
  architecture says. The engine's MAX_POOL_2D therefore does not use SSUB8 + SEL.
- What the kernels use instead, and elsewhere: MAX_POOL_2D (pooling_fast.c) takes the signed byte
  maximum as b + UQSUB8(a, b) on bytes biased by 0x80; CONV_2D (conv_fast.c) SMLAD on int16 pairs
  of both signs and its 32-bit wrap-around; FULLY_CONNECTED (fully_connected_fast.c) SXTB16 of
  the even bytes and, rotated, the odd ones.
"""

from __future__ import annotations

import os
import shutil

import pytest

from harness.deadline import Deadline
from harness.process import LoggedChild, free_port
from harness.targets.renode import RENODE_ENV, renode_command, renode_executable
from harness.targets.renode_monitor import parse_monitor_integer
from harness.targets.renode_monitor import RenodeMonitor
from tests.targets.programs import VECTORS

# the operands both programs start from
OPERANDS = VECTORS + """
    ldr r0, =0x05F07F80     /* bytes -128, 127, -16, 5 */
    ldr r1, =0x0A108001     /* bytes    1, -128, 16, 10 */
"""

SSUB8_SEL = OPERANDS + """
    ssub8 r2, r0, r1        /* GE = 0b0010: only 127 - (-128) is >= 0 */
    sel r3, r0, r1          /* per byte GE ? r0 : r1 = the signed maximum */
1:  b 1b
"""
SIGNED_BYTE_MAX = 0x0A107F01   # max(-128, 1), max(127, -128), max(-16, 16), max(5, 10)

PROGRAM = OPERANDS + """
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
SMLAD_RESULT = (0x7FFFFF00 + (-255) * (-255) + 127 * (-127)) & 0xFFFFFFFF
SXTB16_EVEN, SXTB16_ODD = 0xFFFF0001, 0xFF80007F

needs_renode = pytest.mark.skipif(shutil.which(os.environ.get(RENODE_ENV) or "renode") is None,
                                  reason=f"Renode is not provided: set ${RENODE_ENV} or put `renode` on PATH")


def registers_after(elf, steps: int, registers, tmp_path) -> dict[int, int]:
    """Run ``elf`` on Renode's stm32f4.repl for ``steps`` instructions; the registers' values."""
    script = tmp_path / "isa.resc"
    script.write_text(f'mach create "isa"\nmachine LoadPlatformDescription @platforms/cpus/stm32f4.repl\n'
                      f"sysbus LoadELF @{elf}\n")
    port = free_port()
    renode = LoggedChild(renode_command(renode_executable(), port, script), tmp_path / "renode.log")
    try:
        monitor = RenodeMonitor.connect("127.0.0.1", port, timeout_s=60, alive=lambda: renode.is_running)
        deadline = Deadline(60)
        while monitor.prompt != "isa":
            monitor.read_until_prompt(deadline)
        monitor.execute(f"sysbus.cpu Step {steps}", timeout_s=30)
        values = {r: parse_monitor_integer(monitor.execute(f"sysbus.cpu GetRegisterUnsafe {r}"), f"r{r}")
                  for r in registers}
        monitor.quit()
        monitor.close()
    finally:
        renode.stop(10)
    return values


@needs_renode
@pytest.mark.xfail(strict=True, raises=AssertionError, reason="Renode 1.15.3 sets SSUB8's GE bits from the wrapped difference")
def test_ssub8_sel_gives_the_signed_byte_maximum_on_renode(assemble, tmp_path):
    r3 = registers_after(assemble("sel", SSUB8_SEL), 4, [3], tmp_path)[3]   # ldr, ldr, ssub8, sel
    assert r3 == SIGNED_BYTE_MAX, f"SEL after SSUB8 gave 0x{r3:08X}, the signed byte maximum is 0x{SIGNED_BYTE_MAX:08X}"


@needs_renode
def test_kernel_dsp_instructions_on_renode(assemble, tmp_path):
    r = registers_after(assemble("dsp", PROGRAM), STEPS, [3, 8, 10, 11], tmp_path)
    assert r[3] == SIGNED_BYTE_MAX, f"biased UQSUB8 maximum gave 0x{r[3]:08X}, expected 0x{SIGNED_BYTE_MAX:08X}"
    assert r[8] == SMLAD_RESULT, f"SMLAD gave 0x{r[8]:08X}, expected 0x{SMLAD_RESULT:08X}"
    assert (r[10], r[11]) == (SXTB16_EVEN, SXTB16_ODD), f"SXTB16 gave 0x{r[10]:08X}, 0x{r[11]:08X}"
