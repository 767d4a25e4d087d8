/*
 * NUCLEO-F446RE: STM32F446RE at 180 MHz from HSI through the PLL (no HSE needed: the ST-LINK
 * MCO is not fitted on every board revision). Link on USART2 (PA2 TX, PA3 RX, AF7), IRQ 38,
 * 115200 8N1 on the ST-LINK virtual COM port (soc/stm32f4/'s link). Cost counter: DWT CYCCNT
 * (core cycles).
 *
 * Clock sequence per RM0390 5.1.4 (over-drive is needed above 168 MHz). If any step times out
 * the board stays on HSI 16 MHz and the link still comes up at the right baud rate.
 */
#include "hil/board.h"

#include "cycle_counter.h"
#include "hil/init_steps.h"
#include "stm32f4.h"

#define HSI_HZ 16000000u
#define SYSCLK_HZ 180000000u
#define APB1_HZ (SYSCLK_HZ / 4u) /* 45 MHz, the APB1 maximum */
/* PLL: HSI 16 MHz / M 8 = 2 MHz; x N 180 = 360 MHz VCO; / P 2 = 180 MHz; / Q 8 = 45 MHz; / R 2 */
#define PLL_M 8u
#define PLL_N 180u
#define PLL_P_DIV2 0u /* PLLP field: 0 -> /2 */
#define PLL_Q 8u
#define PLL_R 2u
#define PLLCFGR_SRC_HSI 0u
#define FLASH_LATENCY_180MHZ 5u /* 5 wait states at 2.7-3.6 V, RM0390 table 5 */
#define CLOCK_WAIT_LOOPS 1000000u

_Static_assert(HIL_BOARD_LINK_IRQ == 38, "board.mk and board.c disagree on the USART2 IRQ");
_Static_assert(HIL_BOARD_LINK_USART == USART2_BASE, "board.mk and board.c disagree on the link USART");

static hil_ring_t *link_rx;
static uint32_t link_pclk_hz = HSI_HZ;

static int wait_set(volatile uint32_t *reg, uint32_t mask, uint32_t value)
{
    for (uint32_t loops = 0; loops < CLOCK_WAIT_LOOPS; loops++) {
        if ((*reg & mask) == value) {
            return 0;
        }
    }
    return -1;
}

static int hsi_on(void)
{
    RCC_CR |= RCC_CR_HSION;
    return wait_set(&RCC_CR, RCC_CR_HSIRDY, RCC_CR_HSIRDY);
}

static int regulator_scale1(void)
{
    RCC_APB1ENR |= RCC_APB1ENR_PWREN;
    (void)RCC_APB1ENR; /* read back: the enable takes effect before PWR is touched */
    PWR_CR = (PWR_CR & ~PWR_CR_VOS_MASK) | PWR_CR_VOS_SCALE1; /* only writable while the PLL is off */
    return 0;
}

static int pll_start(void)
{
    RCC_CR &= ~RCC_CR_PLLON;
    if (wait_set(&RCC_CR, RCC_CR_PLLRDY, 0u) != 0) {
        return -1;
    }
    RCC_PLLCFGR = PLL_M | (PLL_N << 6) | (PLL_P_DIV2 << 16) | (PLLCFGR_SRC_HSI << 22) |
                  (PLL_Q << 24) | (PLL_R << 28);
    RCC_CR |= RCC_CR_PLLON;
    return 0;
}

static int overdrive_on(void)
{
    PWR_CR |= PWR_CR_ODEN;
    if (wait_set(&PWR_CSR, PWR_CSR_ODRDY, PWR_CSR_ODRDY) != 0) {
        return -1;
    }
    PWR_CR |= PWR_CR_ODSWEN;
    return wait_set(&PWR_CSR, PWR_CSR_ODSWRDY, PWR_CSR_ODSWRDY);
}

static int flash_and_buses_for_180mhz(void)
{
    /* wait states go up BEFORE the clock does; read back, as the reference manual asks */
    FLASH_ACR = FLASH_LATENCY_180MHZ | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN;
    if ((FLASH_ACR & FLASH_ACR_LATENCY_MASK) != FLASH_LATENCY_180MHZ) {
        return -1;
    }
    RCC_CFGR = (RCC_CFGR & ~(RCC_CFGR_HPRE_MASK | RCC_CFGR_PPRE1_MASK | RCC_CFGR_PPRE2_MASK)) |
               RCC_CFGR_PPRE1_DIV4 | RCC_CFGR_PPRE2_DIV2;
    return 0;
}

static int switch_to_pll(void)
{
    if (wait_set(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY) != 0) {
        return -1;
    }
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL;
    return wait_set(&RCC_CFGR, RCC_CFGR_SWS_MASK, RCC_CFGR_SWS_PLL);
}

static int clocks_init(void)
{
    if (hsi_on() != 0 || regulator_scale1() != 0 || pll_start() != 0 || overdrive_on() != 0 ||
        flash_and_buses_for_180mhz() != 0 || switch_to_pll() != 0) {
        /* stay on HSI with undivided buses: slower, but the link still works */
        RCC_CFGR &= ~(RCC_CFGR_SW_MASK | RCC_CFGR_PPRE1_MASK | RCC_CFGR_PPRE2_MASK);
        link_pclk_hz = HSI_HZ;
        return 0;
    }
    link_pclk_hz = APB1_HZ;
    return 0;
}

static int peripheral_clocks_init(void)
{
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
    RCC_APB1ENR |= RCC_APB1ENR_USART2EN;
    (void)RCC_APB1ENR; /* read back: two cycles before the peripheral may be accessed */
    return 0;
}

static int pins_init(void)
{
    stm32_usart_pins(GPIOA_BASE, 2u, 3u, GPIO_AF7_USART1_3);
    return 0;
}

static int cost_counter_init(void)
{
    hil_cycle_counter_start();
    return 0;
}

static int link_init(void)
{
    return stm32_link_start_ring(link_rx, link_pclk_hz);
}

int board_init(hil_ring_t *rx)
{
    static const hil_init_step_t steps[] = {clocks_init, peripheral_clocks_init, pins_init, cost_counter_init,
                                            link_init};
    link_rx = rx;
    return hil_init_steps(steps, sizeof steps / sizeof steps[0]);
}

uint32_t board_cost_counter(void)
{
    return hil_cycle_counter();
}
