/*
 * netduinoplus2 under QEMU: STM32F405, the link on USART1 (PA9 TX, PA10 RX, AF7, IRQ 37).
 * QEMU does not model RCC: nothing waits on a ready bit and the chip stays on its 16 MHz HSI.
 */
#include "bsp.h"

#include <stdbool.h>

#include "hil/board.h"
#include "hil/cortex_m.h"
#include "hil_agent/agent.h"
#include "stm32f4.h"

#define LINK_USART USART1_BASE
#define LINK_PCLK_HZ 16000000u /* HSI, no prescaler */
#define LINK_BAUD 115200u
#define LINK_IRQ_PRIORITY 0x80u

_Static_assert(HIL_BOARD_LINK_IRQ == 37, "USART1 is IRQ 37 on the STM32F405");

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
    TIM_PSC(TIM2_BASE) = 0u;
    TIM_ARR(TIM2_BASE) = 0xFFFFFFFFu;
    TIM_EGR(TIM2_BASE) = TIM_EGR_UG;
    TIM_CR1(TIM2_BASE) = TIM_CR1_CEN;
    return (TIM_CR1(TIM2_BASE) & TIM_CR1_CEN) != 0u ? 0 : -1;
}

int bsp_uart_init(void)
{
    stm32_gpio_af(GPIOA_BASE, 9u, GPIO_AF7_USART1_3, false);
    stm32_gpio_af(GPIOA_BASE, 10u, GPIO_AF7_USART1_3, true);
    stm32_usart_init(LINK_USART, stm32_usart_brr(LINK_PCLK_HZ, LINK_BAUD));
    if ((USART_CR1(LINK_USART) & USART_CR1_RXNEIE) == 0u) {
        return -1;
    }
    hil_nvic_enable(HIL_BOARD_LINK_IRQ, LINK_IRQ_PRIORITY);
    return 0;
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

void bsp_uart_write(const uint8_t *data, size_t len)
{
    stm32_usart_write(LINK_USART, data, len);
}

/* the BSP's fault handler drains and silences the link before it halts */
int board_uart_flush(void)
{
    return stm32_usart_flush(LINK_USART);
}

void board_uart_quiesce(void)
{
    stm32_usart_rx_irq_off(LINK_USART);
    hil_nvic_disable(HIL_BOARD_LINK_IRQ);
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

void bsp_sleep_until_rx(void)
{
    /* masked between the check and wfi: a byte arriving meanwhile leaves its IRQ pending, which
     * wakes wfi at once */
    hil_irq_disable();
    if (!hil_agent_rx_pending()) {
        hil_dsb();
        hil_wfi();
    }
    hil_irq_enable();
    hil_isb();
}
