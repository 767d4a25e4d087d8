/*
 * netduinoplus2 under QEMU: STM32F405, link on USART1 (PA9 TX, PA10 RX, AF7), IRQ 37.
 *
 * QEMU does not model RCC: its registers read 0 and ignore writes, so nothing here waits on a
 * ready bit. The chip stays on its 16 MHz HSI reset clock, which is also what BRR assumes.
 * The link itself (write, flush, quiesce, RX interrupt, reset cause) is soc/stm32f4/'s.
 */
#include "hil/board.h"

#include "hil/init_steps.h"
#include "stm32f4.h"

#define LINK_PCLK_HZ 16000000u /* HSI, no prescaler: the reset clock tree */

_Static_assert(HIL_BOARD_LINK_IRQ == 37, "board.mk and board.c disagree on the USART1 IRQ");
_Static_assert(HIL_BOARD_LINK_USART == USART1_BASE, "board.mk and board.c disagree on the link USART");

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
    stm32_usart_pins(GPIOA_BASE, 9u, 10u, GPIO_AF7_USART1_3);
    return 0;
}

static int cost_counter_init(void)
{
    /* QEMU clocks its STM32 timers at 1 GHz: CNT counts virtual nanoseconds (measured: ~1e9
     * ticks per host second without -icount). Under -icount shift=0 a compute-only section then
     * counts instructions; time spent idle in wfi is warped in, so do not time across I/O. */
    stm32_timer_free_running(TIM2_BASE);
    return 0;
}

static int link_init(void)
{
    return stm32_link_start_ring(link_rx, LINK_PCLK_HZ);
}

int board_init(hil_ring_t *rx)
{
    static const hil_init_step_t steps[] = {clocks_init, pins_init, cost_counter_init, link_init};
    link_rx = rx;
    return hil_init_steps(steps, sizeof steps / sizeof steps[0]);
}

uint32_t board_cost_counter(void)
{
    return TIM_CNT(TIM2_BASE);
}
