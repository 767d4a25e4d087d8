/*
 * Board interface: everything above it (main loop, dispatch, faults) is board-independent.
 * A board is one folder, firmware/boards/<name>/, with board.c, board.mk and linker.ld.
 *
 * board.mk supplies the constants below as build defines:
 *   HIL_BOARD_NAME       the folder name, reported in INFO (BOARD)
 *   HIL_BOARD_CPU        e.g. "cortex-m4f" (INFO CPU)
 *   HIL_BOARD_COST_UNIT  what board_cost_counter() counts: "cycles" or "instructions" (INFO COST_UNIT)
 *   HIL_BOARD_IRQ_COUNT  external interrupts in the vector table
 *   HIL_BOARD_LINK_IRQ   the link UART's interrupt number
 */
#ifndef HIL_BOARD_H
#define HIL_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "hil/ring.h"

#if !defined(HIL_BOARD_NAME) || !defined(HIL_BOARD_CPU) || !defined(HIL_BOARD_COST_UNIT)
#error "board.mk must define HIL_BOARD_NAME, HIL_BOARD_CPU and HIL_BOARD_COST_UNIT"
#endif

/* Clocks, pins, the link UART (its RX interrupt pushes into rx) and the cost counter.
 * Returns 0, or a negative value naming the step that failed. */
int board_init(hil_ring_t *rx);

/* Polled transmit on the link UART; safe from fault handlers. */
void board_uart_write(const uint8_t *data, size_t len);
/* Waits until every written byte has left the UART. Returns 0 or -1 on timeout. */
int board_uart_flush(void);
/* Stops link receive interrupts (before halting, so a sleeping core stays asleep). */
void board_uart_quiesce(void);
/* The link UART's interrupt handler; the vector table points HIL_BOARD_LINK_IRQ here. */
void board_link_irq_handler(void);

/* Free-running 32-bit counter in HIL_BOARD_COST_UNIT, for timing inference. */
uint32_t board_cost_counter(void);

/* What the hardware says caused the last reset, or NULL when it cannot tell (QEMU). */
const char *board_reset_cause(void);

#endif /* HIL_BOARD_H */
