#include "idle.h"

#include "hil/cortex_m.h"
#include "hil_agent/agent.h"

/* Interrupts are masked between the emptiness check and wfi: a byte arriving in that window
 * leaves its IRQ pending, which wakes wfi at once (PRIMASK only delays taking it). */
void hil_sleep_until_rx(void)
{
    hil_irq_disable();
    if (!hil_agent_rx_pending()) {
        hil_dsb();
        hil_wfi();
    }
    hil_irq_enable();
    hil_isb();
}
