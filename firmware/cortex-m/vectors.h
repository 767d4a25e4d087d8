/* The vector table and the exception entry points it names. */
#ifndef HIL_VECTORS_H
#define HIL_VECTORS_H

#include <stdint.h>

typedef void (*hil_isr_t)(void);

typedef struct {
    uint32_t *initial_sp;
    hil_isr_t reset;
    hil_isr_t core[14]; /* NMI .. SysTick */
    hil_isr_t irq[HIL_BOARD_IRQ_COUNT];
} hil_vector_table_t;

extern const hil_vector_table_t hil_vector_table;

void hil_reset_handler(void);
/* Every fault, and any exception or interrupt the firmware did not enable, lands here. */
void hil_fault_entry(void);

#endif /* HIL_VECTORS_H */
