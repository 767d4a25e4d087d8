/*
 * STM32F4 peripheral registers used by the boards (RM0090 for F405, RM0390 for F446: the
 * blocks below are identical on both). Only what the boards touch.
 */
#ifndef HIL_STM32F4_H
#define HIL_STM32F4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hil/cortex_m.h"
#include "hil/ring.h"

#define RCC_BASE 0x40023800u
#define RCC_CR HIL_REG32(RCC_BASE + 0x00u)
#define RCC_PLLCFGR HIL_REG32(RCC_BASE + 0x04u)
#define RCC_CFGR HIL_REG32(RCC_BASE + 0x08u)
#define RCC_AHB1ENR HIL_REG32(RCC_BASE + 0x30u)
#define RCC_APB1ENR HIL_REG32(RCC_BASE + 0x40u)
#define RCC_APB2ENR HIL_REG32(RCC_BASE + 0x44u)
#define RCC_CSR HIL_REG32(RCC_BASE + 0x74u)

#define RCC_CR_HSION (1u << 0)
#define RCC_CR_HSIRDY (1u << 1)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_CFGR_SW_MASK (3u << 0)
#define RCC_CFGR_SW_PLL (2u << 0)
#define RCC_CFGR_SWS_MASK (3u << 2)
#define RCC_CFGR_SWS_PLL (2u << 2)
#define RCC_CFGR_HPRE_MASK (0xFu << 4)
#define RCC_CFGR_PPRE1_MASK (7u << 10)
#define RCC_CFGR_PPRE1_DIV4 (5u << 10)
#define RCC_CFGR_PPRE2_MASK (7u << 13)
#define RCC_CFGR_PPRE2_DIV2 (4u << 13)
#define RCC_AHB1ENR_GPIOAEN (1u << 0)
#define RCC_APB1ENR_TIM2EN (1u << 0)
#define RCC_APB1ENR_USART2EN (1u << 17)
#define RCC_APB1ENR_PWREN (1u << 28)
#define RCC_APB2ENR_USART1EN (1u << 4)
#define RCC_CSR_RMVF (1u << 24)
#define RCC_CSR_BORRSTF (1u << 25)
#define RCC_CSR_PINRSTF (1u << 26)
#define RCC_CSR_PORRSTF (1u << 27)
#define RCC_CSR_SFTRSTF (1u << 28)
#define RCC_CSR_IWDGRSTF (1u << 29)
#define RCC_CSR_WWDGRSTF (1u << 30)
#define RCC_CSR_LPWRRSTF (1u << 31)

#define PWR_BASE 0x40007000u
#define PWR_CR HIL_REG32(PWR_BASE + 0x00u)
#define PWR_CSR HIL_REG32(PWR_BASE + 0x04u)
#define PWR_CR_VOS_MASK (3u << 14)
#define PWR_CR_VOS_SCALE1 (3u << 14)
#define PWR_CR_ODEN (1u << 16)
#define PWR_CR_ODSWEN (1u << 17)
#define PWR_CSR_ODRDY (1u << 16)
#define PWR_CSR_ODSWRDY (1u << 17)

#define FLASH_ACR HIL_REG32(0x40023C00u)
#define FLASH_ACR_LATENCY_MASK (0xFu << 0)
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN (1u << 9)
#define FLASH_ACR_DCEN (1u << 10)

#define GPIOA_BASE 0x40020000u
#define GPIO_MODER(base) HIL_REG32((base) + 0x00u)
#define GPIO_OSPEEDR(base) HIL_REG32((base) + 0x08u)
#define GPIO_PUPDR(base) HIL_REG32((base) + 0x0Cu)
#define GPIO_AFR(base, pin) HIL_REG32((base) + 0x20u + 4u * ((uint32_t)(pin) >> 3))
#define GPIO_MODE_AF 2u
#define GPIO_SPEED_HIGH 2u
#define GPIO_PULL_UP 1u
#define GPIO_AF7_USART1_3 7u

#define USART1_BASE 0x40011000u
#define USART2_BASE 0x40004400u
#define USART_SR(base) HIL_REG32((base) + 0x00u)
#define USART_DR(base) HIL_REG32((base) + 0x04u)
#define USART_BRR(base) HIL_REG32((base) + 0x08u)
#define USART_CR1(base) HIL_REG32((base) + 0x0Cu)
#define USART_CR2(base) HIL_REG32((base) + 0x10u)
#define USART_CR3(base) HIL_REG32((base) + 0x14u)
#define USART_SR_ORE (1u << 3)
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TC (1u << 6)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_RE (1u << 2)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_RXNEIE (1u << 5)
#define USART_CR1_UE (1u << 13)

#define TIM2_BASE 0x40000000u
#define TIM_CR1(base) HIL_REG32((base) + 0x00u)
#define TIM_EGR(base) HIL_REG32((base) + 0x14u)
#define TIM_CNT(base) HIL_REG32((base) + 0x24u)
#define TIM_PSC(base) HIL_REG32((base) + 0x28u)
#define TIM_ARR(base) HIL_REG32((base) + 0x2Cu)
#define TIM_CR1_CEN (1u << 0)
#define TIM_EGR_UG (1u << 0)

/* ---- shared drivers (soc/stm32f4/stm32f4.c) ---- */

/* Configures one pin as alternate function af, high speed, optional pull-up. */
void stm32_gpio_af(uint32_t port_base, uint32_t pin, uint32_t af, bool pull_up);
/* A USART's TX and RX pins on one port: alternate function af (AF7 for USART1..3), RX pulled up. */
void stm32_usart_pins(uint32_t port_base, uint32_t tx_pin, uint32_t rx_pin, uint32_t af);
/* Baud register for oversampling by 16: USARTDIV = pclk / (16 * baud), rounded. */
uint32_t stm32_usart_brr(uint32_t pclk_hz, uint32_t baud);
/* 8N1, transmitter and receiver on, RXNE interrupt on (NVIC is the board's job). */
void stm32_usart_init(uint32_t base, uint32_t brr);
/* RX interrupt body: drains DR into ring. Clears overrun too, so the IRQ cannot storm. */
void stm32_usart_rx_isr(uint32_t base, hil_ring_t *ring);
/* Polled transmit on TXE; each byte wait is bounded so a dead UART cannot hang a fault report. */
void stm32_usart_write(uint32_t base, const uint8_t *data, size_t len);
/* Waits (bounded) until the last byte has left the shift register. Returns 0 or -1 on timeout. */
int stm32_usart_flush(uint32_t base);
void stm32_usart_rx_irq_off(uint32_t base);
/* Reset cause from RCC_CSR (then cleared), or NULL when no flag is set (QEMU reads 0). */
const char *stm32_reset_cause(void);
/* TIM2..TIM5 as a free-running 32-bit up-counter at the timer clock (no prescaler). */
void stm32_timer_free_running(uint32_t base);

/* ---- the link (stm32f4_link.c): board.h's UART on HIL_BOARD_LINK_USART, 115200 8N1 ---- */

/* Baud rate from pclk_hz, RX interrupt on in the USART and the NVIC (HIL_BOARD_LINK_IRQ). */
void stm32_link_start(uint32_t pclk_hz);
/* stm32f4_link_ring.c: stm32_link_start, with board_link_irq_handler() pushing into rx.
 * Returns 0, or -1 without a ring. */
int stm32_link_start_ring(hil_ring_t *rx, uint32_t pclk_hz);

#endif /* HIL_STM32F4_H */
