/*
 * netduinoplus2 under QEMU: STM32F405, link on USART1 (PA9 TX, PA10 RX, AF7), IRQ 37.
 *
 * QEMU does not model RCC: its registers read 0 and ignore writes, so nothing here waits on a
 * ready bit. The chip stays on its 16 MHz HSI reset clock, which is also what BRR assumes.
 */
#include "hil/board.h"

#include "stm32f4.h"

#define LINK_USART USART1_BASE
#define LINK_PCLK_HZ 16000000u /* HSI, no prescaler: the reset clock tree */
#define LINK_BAUD 115200u
#define LINK_IRQ_PRIORITY 0x80u

_Static_assert(HIL_BOARD_LINK_IRQ == 37, "board.mk and board.c disagree on the USART1 IRQ");

static hil_ring_t *link_rx;

static int clocks_init(void)
{
    /* gate enables only: harmless under QEMU, needed on the silicon */
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
    RCC_APB2ENR |= RCC_APB2ENR_USART1EN;
    RCC_APB1ENR |= RCC_APB1ENR_TIM2EN;
    return 0;
}

static int pins_init(void)
{
    stm32_gpio_af(GPIOA_BASE, 9u, GPIO_AF7_USART1_3, false);
    stm32_gpio_af(GPIOA_BASE, 10u, GPIO_AF7_USART1_3, true);
    return 0;
}

static int link_init(hil_ring_t *rx)
{
    if (rx == NULL) {
        return -1;
    }
    link_rx = rx;
    stm32_usart_init(LINK_USART, stm32_usart_brr(LINK_PCLK_HZ, LINK_BAUD));
    hil_nvic_enable(HIL_BOARD_LINK_IRQ, LINK_IRQ_PRIORITY);
    return 0;
}

static int cost_counter_init(void)
{
    /* QEMU clocks its STM32 timers at 1 GHz: CNT counts virtual nanoseconds (measured: ~1e9
     * ticks per host second without -icount). Under -icount shift=0 a compute-only section then
     * counts instructions; time spent idle in wfi is warped in, so do not time across I/O. */
    TIM_PSC(TIM2_BASE) = 0u;
    TIM_ARR(TIM2_BASE) = 0xFFFFFFFFu;
    TIM_EGR(TIM2_BASE) = TIM_EGR_UG; /* load PSC now, not at the first overflow */
    TIM_CR1(TIM2_BASE) = TIM_CR1_CEN;
    return 0;
}

int board_init(hil_ring_t *rx)
{
    if (clocks_init() != 0) {
        return -1;
    }
    if (pins_init() != 0) {
        return -2;
    }
    if (cost_counter_init() != 0) {
        return -3;
    }
    if (link_init(rx) != 0) {
        return -4;
    }
    return 0;
}

void board_link_irq_handler(void)
{
    stm32_usart_rx_isr(LINK_USART, link_rx);
}

void board_uart_write(const uint8_t *data, size_t len)
{
    stm32_usart_write(LINK_USART, data, len);
}

int board_uart_flush(void)
{
    return stm32_usart_flush(LINK_USART);
}

void board_uart_quiesce(void)
{
    stm32_usart_rx_irq_off(LINK_USART);
    hil_nvic_disable(HIL_BOARD_LINK_IRQ);
}

uint32_t board_cost_counter(void)
{
    return TIM_CNT(TIM2_BASE);
}

const char *board_reset_cause(void)
{
    return stm32_reset_cause();
}
