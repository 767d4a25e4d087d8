/*
 * Fault reporter: the agent sends a FAULT frame (CFSR HFSR MMFAR BFAR R0 R1 R2 R3 R12 LR PC
 * xPSR) through the port's polled UART write; this then drains the UART and halts. UsageFault,
 * BusFault and MemManage stay disabled in SHCSR, so they escalate to HardFault: HFSR.FORCED is
 * set and CFSR keeps the cause.
 */
#include <stdint.h>

#include "hil/board.h"
#include "hil/cortex_m.h"
#include "hil/protocol.h"
#include "hil_agent/agent.h"
#include "vectors.h"

__attribute__((noreturn, used)) void hil_fault_report(const uint32_t *stacked, uint32_t exc_return);

/* Naked: no prologue may touch the stack before the frame pointer is taken. EXC_RETURN bit 2
 * says which stack the hardware pushed the frame on. */
__attribute__((naked)) void hil_fault_entry(void)
{
    __asm volatile(
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "mov r1, lr\n"
        "b hil_fault_report\n");
}

void hil_fault_report(const uint32_t *stacked, uint32_t exc_return)
{
    (void)exc_return;
    /* the basic frame: R0 R1 R2 R3 R12 LR PC xPSR (an FP-extended frame starts the same way) */
    const uint32_t words[HIL_FAULT_WORDS] = {
        SCB_CFSR, SCB_HFSR, SCB_MMFAR, SCB_BFAR,
        stacked[0], stacked[1], stacked[2], stacked[3],
        stacked[4], stacked[5], stacked[6], stacked[7],
    };
    hil_agent_report_fault(words); /* a lone 0x00 (ends any half-sent frame), then FAULT */
    if (board_uart_flush() != 0) {
        /* nothing left to report it with; halt regardless */
    }
    board_uart_quiesce();
    hil_halt();
}
