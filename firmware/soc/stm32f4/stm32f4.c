/* STM32F4 drivers shared by every board of the family: GPIO alternate function, USART, RCC_CSR,
 * a free-running timer. */
#include "stm32f4.h"

/* ~10 ms at 180 MHz; one byte at 115200 baud takes 87 us, so only a dead UART reaches it. */
#define USART_WAIT_LOOPS 400000u

static uint32_t tx_timeouts; /* visible in a debugger: a sign of a dead or unclocked UART */
static uint32_t rx_overruns;

void stm32_gpio_af(uint32_t port_base, uint32_t pin, uint32_t af, bool pull_up)
{
    const uint32_t shift2 = 2u * pin;
    const uint32_t shift4 = 4u * (pin & 7u);
    GPIO_AFR(port_base, pin) = (GPIO_AFR(port_base, pin) & ~(0xFu << shift4)) | (af << shift4);
    GPIO_OSPEEDR(port_base) = (GPIO_OSPEEDR(port_base) & ~(3u << shift2)) | (GPIO_SPEED_HIGH << shift2);
    GPIO_PUPDR(port_base) = (GPIO_PUPDR(port_base) & ~(3u << shift2)) | ((pull_up ? GPIO_PULL_UP : 0u) << shift2);
    /* mode last, so the pin never drives the line with a half-configured function */
    GPIO_MODER(port_base) = (GPIO_MODER(port_base) & ~(3u << shift2)) | (GPIO_MODE_AF << shift2);
}

void stm32_usart_pins(uint32_t port_base, uint32_t tx_pin, uint32_t rx_pin, uint32_t af)
{
    stm32_gpio_af(port_base, tx_pin, af, false);
    stm32_gpio_af(port_base, rx_pin, af, true); /* an idle line reads high, even unconnected */
}

uint32_t stm32_usart_brr(uint32_t pclk_hz, uint32_t baud)
{
    /* BRR = mantissa<<4 | fraction/16 is pclk/baud in 1/16 units of USARTDIV: round to nearest */
    return (pclk_hz + baud / 2u) / baud;
}

void stm32_usart_init(uint32_t base, uint32_t brr)
{
    USART_CR1(base) = USART_CR1_UE;
    USART_CR2(base) = 0u; /* 1 stop bit */
    USART_CR3(base) = 0u; /* no flow control, no DMA */
    USART_BRR(base) = brr;
    USART_CR1(base) = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;
}

void stm32_usart_rx_isr(uint32_t base, hil_ring_t *ring)
{
    uint32_t status = USART_SR(base);
    while ((status & (USART_SR_RXNE | USART_SR_ORE)) != 0u) {
        /* the SR-then-DR read sequence is also what clears ORE */
        const uint8_t byte = (uint8_t)USART_DR(base);
        if ((status & USART_SR_ORE) != 0u) {
            rx_overruns++;
        }
        if (!hil_ring_push(ring, byte)) {
            /* counted in the ring; the frame it belonged to fails its CRC and is answered */
        }
        status = USART_SR(base);
    }
}

void stm32_usart_write(uint32_t base, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint32_t loops = 0;
        while ((USART_SR(base) & USART_SR_TXE) == 0u) {
            if (++loops == USART_WAIT_LOOPS) {
                tx_timeouts++;
                return;
            }
        }
        USART_DR(base) = data[i];
    }
}

int stm32_usart_flush(uint32_t base)
{
    for (uint32_t loops = 0; loops < USART_WAIT_LOOPS; loops++) {
        if ((USART_SR(base) & (USART_SR_TXE | USART_SR_TC)) == (USART_SR_TXE | USART_SR_TC)) {
            return 0;
        }
    }
    return -1;
}

void stm32_usart_rx_irq_off(uint32_t base)
{
    USART_CR1(base) &= ~USART_CR1_RXNEIE;
}

const char *stm32_reset_cause(void)
{
    const uint32_t flags = RCC_CSR;
    RCC_CSR = flags | RCC_CSR_RMVF;
    /* a software or watchdog reset also pulses NRST, so PINRSTF is checked last */
    if ((flags & RCC_CSR_LPWRRSTF) != 0u) {
        return "low-power";
    }
    if ((flags & (RCC_CSR_IWDGRSTF | RCC_CSR_WWDGRSTF)) != 0u) {
        return "watchdog";
    }
    if ((flags & RCC_CSR_SFTRSTF) != 0u) {
        return "software";
    }
    if ((flags & (RCC_CSR_PORRSTF | RCC_CSR_BORRSTF)) != 0u) {
        return "power-on";
    }
    if ((flags & RCC_CSR_PINRSTF) != 0u) {
        return "pin";
    }
    return NULL;
}

void stm32_timer_free_running(uint32_t base)
{
    TIM_PSC(base) = 0u;
    TIM_ARR(base) = 0xFFFFFFFFu;
    TIM_EGR(base) = TIM_EGR_UG; /* load PSC now, not at the first overflow */
    TIM_CR1(base) = TIM_CR1_CEN;
}
