/*
 * Fault reporter: sends a FAULT frame (CFSR HFSR MMFAR BFAR R0 R1 R2 R3 R12 LR PC xPSR) on the
 * link by polling the UART, then halts. UsageFault, BusFault and MemManage stay disabled in
 * SHCSR, so they escalate to HardFault: HFSR.FORCED is set and CFSR keeps the cause.
 */
#include <stdint.h>

#include "hil/board.h"
#include "hil/cortex_m.h"
#include "hil/link.h"
#include "hil/protocol.h"
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

static void fault_sink(void *context, const uint8_t *data, size_t len)
{
    (void)context;
    board_uart_write(data, len);
}

static void put_le32(uint8_t *out, uint32_t value)
{
    out[0] = (uint8_t)(value & 0xFFu);
    out[1] = (uint8_t)((value >> 8) & 0xFFu);
    out[2] = (uint8_t)((value >> 16) & 0xFFu);
    out[3] = (uint8_t)(value >> 24);
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
    uint8_t payload[4u * HIL_FAULT_WORDS];
    for (uint32_t i = 0; i < HIL_FAULT_WORDS; i++) {
        put_le32(&payload[4u * i], words[i]);
    }
    static const uint8_t flush = 0u;
    board_uart_write(&flush, 1u); /* ends any half-sent frame so the host resynchronises */
    hil_frame_write(fault_sink, NULL, HIL_MSG_FAULT, 0u, payload, sizeof payload);
    if (board_uart_flush() != 0) {
        /* nothing left to report it with; halt regardless */
    }
    board_uart_quiesce();
    hil_halt();
}
