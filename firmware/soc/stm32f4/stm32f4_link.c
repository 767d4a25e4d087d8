/*
 * board.h's link UART on one STM32F4 USART, HIL_BOARD_LINK_USART (board.mk's BOARD_DEFINES), IRQ
 * HIL_BOARD_LINK_IRQ: start, polled write, flush, quiesce, and the reset cause. The RX interrupt
 * handler is the firmware's own (a ring, as stm32f4_link_ring.c, or hil_agent_rx_feed()).
 */
#include "hil/board.h"
#include "stm32f4.h"

#ifndef HIL_BOARD_LINK_USART
#error "board.mk must add -DHIL_BOARD_LINK_USART=<USARTn_BASE> to BOARD_DEFINES"
#endif

#define LINK_BAUD 115200u
#define LINK_IRQ_PRIORITY 0x80u

void stm32_link_start(uint32_t pclk_hz)
{
    stm32_usart_init(HIL_BOARD_LINK_USART, stm32_usart_brr(pclk_hz, LINK_BAUD));
    hil_nvic_enable(HIL_BOARD_LINK_IRQ, LINK_IRQ_PRIORITY);
}

void board_uart_write(const uint8_t *data, size_t len)
{
    stm32_usart_write(HIL_BOARD_LINK_USART, data, len);
}

int board_uart_flush(void)
{
    return stm32_usart_flush(HIL_BOARD_LINK_USART);
}

void board_uart_quiesce(void)
{
    stm32_usart_rx_irq_off(HIL_BOARD_LINK_USART);
    hil_nvic_disable(HIL_BOARD_LINK_IRQ);
}

const char *board_reset_cause(void)
{
    return stm32_reset_cause();
}
