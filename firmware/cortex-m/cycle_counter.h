/* The DWT cycle counter (ARMv7-M ARM C1.8), the cost counter of boards that have one. QEMU does
 * not model the DWT; Renode's (boards/nrf52840/renode.repl) ticks once per instruction. */
#ifndef HIL_CYCLE_COUNTER_H
#define HIL_CYCLE_COUNTER_H

#include "hil/cortex_m.h"

static inline void hil_cycle_counter_start(void)
{
    DEMCR |= DEMCR_TRCENA;
    DWT_CYCCNT = 0u;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
}

static inline uint32_t hil_cycle_counter(void)
{
    return DWT_CYCCNT;
}

#endif /* HIL_CYCLE_COUNTER_H */
