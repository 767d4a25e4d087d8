/* The link's RX interrupt into a ring (board_init's rx), for the STM32F4 boards of firmware/boards/. */
#include "hil/board.h"
#include "stm32f4.h"

static hil_ring_t *link_rx;

int stm32_link_start_ring(hil_ring_t *rx, uint32_t pclk_hz)
{
    if (rx == NULL) {
        return -1;
    }
    link_rx = rx;
    stm32_link_start(pclk_hz);
    return 0;
}

void board_link_irq_handler(void)
{
    stm32_usart_rx_isr(HIL_BOARD_LINK_USART, link_rx);
}
