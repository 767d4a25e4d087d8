/* Vector table: reset, the link UART's IRQ, and everything else to the fault reporter. */
#include "vectors.h"

#include "hil/board.h"

extern uint32_t __stack_top[];

_Static_assert(HIL_BOARD_LINK_IRQ < HIL_BOARD_IRQ_COUNT, "link IRQ outside the vector table");

/* An unexpected exception or IRQ is a bug; reporting it as a FAULT (CFSR/HFSR may read 0, the
 * stacked PC says where) beats spinning silently in a default handler. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init" /* the link IRQ overrides the range default */
__attribute__((section(".isr_vector"), used))
const hil_vector_table_t hil_vector_table = {
    .initial_sp = __stack_top,
    .reset = hil_reset_handler,
    .core = {[0 ... 13] = hil_fault_entry},
    .irq = {
        [0 ... HIL_BOARD_IRQ_COUNT - 1] = hil_fault_entry,
        [HIL_BOARD_LINK_IRQ] = board_link_irq_handler,
    },
};
#pragma GCC diagnostic pop
