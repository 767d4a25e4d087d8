/*
 * The team's board support for QEMU's netduinoplus2 (STM32F405): the BSP's startup, vectors and
 * fault handler (firmware/cortex-m/) and its STM32F4 USART code (firmware/soc/stm32f4/), used
 * by path; this file's functions are the few the product adds on top.
 */
#ifndef APP_BSP_H
#define APP_BSP_H

#include <stddef.h>
#include <stdint.h>

int bsp_clocks_init(void);       /* the clock tree; RCC is not modelled by QEMU */
int bsp_fpu_enable(void);        /* CP10/CP11 full access, checked */
int bsp_cost_counter_init(void); /* TIM2 free-running: instructions under QEMU -icount */
int bsp_uart_init(void);         /* USART1 115200 8N1, RX interrupt feeds hil_agent_rx_feed() */

uint32_t bsp_cost_counter(void);
/* RESET: drain the UART, then reset the chip; never returns */
void bsp_reset(void);
/* halt where a debugger sees it (set-up failed before the link could say so) */
__attribute__((noreturn)) void bsp_halt(void);
/* sleep until an interrupt unless received bytes wait (checked with interrupts masked) */

#endif /* APP_BSP_H */
