/*
 * netduinoplus2 under QEMU: STM32F405, the link on USART1 (PA9 TX, PA10 RX, AF7, IRQ 37).
 * QEMU does not model RCC: nothing waits on a ready bit and the chip stays on its 16 MHz HSI.
 * From the BSP (soc/stm32f4/stm32f4_link.c): the link's start, polled write, flush and quiesce
 * (board_uart_write() etc., which its fault handler uses too); the RX interrupt is ours.
 */
#include "bsp.h"

#include <stdbool.h>

#include "hil/board.h"
#include "hil/cortex_m.h"
#include "hil_agent/agent.h"
#include "stm32f4.h"

#define LINK_USART HIL_BOARD_LINK_USART /* board.mk: USART1 */
#define LINK_PCLK_HZ 16000000u /* HSI, no prescaler */

_Static_assert(HIL_BOARD_LINK_IRQ == 37, "USART1 is IRQ 37 on the STM32F405");
_Static_assert(LINK_USART == USART1_BASE, "the link is USART1 (PA9/PA10)");

int bsp_clocks_init(void)
{
    /* Gate enables: needed on the silicon, harmless under QEMU. The PLL set-up of the product
     * board is skipped on QEMU (APP_QEMU=1), whose RCC would never report it ready. */
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
    RCC_APB2ENR |= RCC_APB2ENR_USART1EN;
    RCC_APB1ENR |= RCC_APB1ENR_TIM2EN;
#if !APP_QEMU
#error "only the QEMU clock tree (HSI 16 MHz) is written; add the board's PLL set-up here"
#endif
    return 0;
}

int bsp_fpu_enable(void)
{
    /* the BSP's reset handler already did this before .data was copied; keep the product's
     * explicit step and check it took */
    SCB_CPACR |= SCB_CPACR_CP10_CP11_FULL;
    hil_dsb();
    hil_isb();
    return (SCB_CPACR & SCB_CPACR_CP10_CP11_FULL) == SCB_CPACR_CP10_CP11_FULL ? 0 : -1;
}

int bsp_cost_counter_init(void)
{
    /* QEMU clocks TIM2 at 1 GHz of virtual time: under -icount shift=0 a compute-only section
     * counts instructions (QEMU has no DWT) */
    stm32_timer_free_running(TIM2_BASE);
    return (TIM_CR1(TIM2_BASE) & TIM_CR1_CEN) != 0u ? 0 : -1;
}

int bsp_uart_init(void)
{
    stm32_usart_pins(GPIOA_BASE, 9u, 10u, GPIO_AF7_USART1_3);
    stm32_link_start(LINK_PCLK_HZ);
    return (USART_CR1(LINK_USART) & USART_CR1_RXNEIE) != 0u ? 0 : -1;
}

/* USART1 IRQ (the BSP's vector table names it): every received byte goes to the agent */
void board_link_irq_handler(void)
{
    uint32_t status = USART_SR(LINK_USART);
    while ((status & (USART_SR_RXNE | USART_SR_ORE)) != 0u) {
        /* SR then DR also clears an overrun; the frame it hit fails its CRC and the host is told */
        const uint8_t byte = (uint8_t)USART_DR(LINK_USART);
        hil_agent_rx_feed(&byte, 1u);
        status = USART_SR(LINK_USART);
    }
}

uint32_t bsp_cost_counter(void)
{
    return TIM_CNT(TIM2_BASE);
}

void bsp_reset(void)
{
    if (board_uart_flush() != 0) {
        /* a stuck UART would not send BOOT either; resetting is still the best remedy */
    }
    hil_system_reset();
}

void bsp_halt(void)
{
    hil_halt();
}
