/* Reset entry for every Cortex-M4F board: FPU, VTOR, .data, .bss, constructors, main. */
#include <stdint.h>
#include <string.h>

#include "hil/cortex_m.h"
#include "vectors.h"

extern uint32_t __data_start[];
extern uint32_t __data_end[];
extern const uint32_t __data_load[];
extern uint32_t __bss_start[];
extern uint32_t __bss_end[];
extern void (*const __init_array_start[])(void);
extern void (*const __init_array_end[])(void);

int main(void);

void hil_reset_handler(void)
{
    /* First, before anything that could touch an FP register (memcpy may): an FP instruction
     * with CP10/CP11 off is a NOCP UsageFault. */
    SCB_CPACR |= SCB_CPACR_CP10_CP11_FULL;
    hil_dsb();
    hil_isb();

    /* the table is in flash at 0x08000000; do not rely on the boot alias at 0 */
    SCB_VTOR = (uint32_t)(uintptr_t)&hil_vector_table;

    memcpy(__data_start, __data_load, (size_t)((uintptr_t)__data_end - (uintptr_t)__data_start));
    memset(__bss_start, 0, (size_t)((uintptr_t)__bss_end - (uintptr_t)__bss_start));

    for (void (*const *ctor)(void) = __init_array_start; ctor < __init_array_end; ctor++) {
        (*ctor)();
    }

    (void)main(); /* main does not return; if it ever does, stop where a debugger can see it */
    hil_halt();
}

void hil_system_reset(void)
{
    hil_dsb(); /* finish outstanding writes (the reset marker) first */
    SCB_AIRCR = SCB_AIRCR_SYSRESET;
    hil_dsb();
    for (;;) {
        /* the reset takes a few cycles to land */
    }
}

void hil_halt(void)
{
    hil_irq_disable();
    for (;;) {
        /* with every interrupt source off, wfi keeps an emulator's host core idle */
        hil_wfi();
    }
}
