/*
 * nRF52840 (Arduino Nano 33 BLE / Sense, nRF52840-DK): 64 MHz from the HFXO when it starts (the
 * on-chip HFINT otherwise), link on UARTE0, 115200 8N1, IRQ 2 (UARTE0_UART0). Cost counter:
 * DWT CYCCNT.
 *
 * UARTE moves data by EasyDMA only, from and to RAM:
 * - RX: a one-byte DMA buffer (RXD.MAXCNT = 1). Each byte ends the transfer (ENDRX); the ISR
 *   pushes it into the ring and starts the next one (the sequence and why: the ISR). Written
 *   for Renode's UARTE model, which ignores SHORTS, delivers one queued byte per STARTRX and
 *   keeps its receiver running after ENDRX. NOT validated on silicon: there, a byte taken from
 *   the UARTE's FIFO between the first STARTRX and clearing ENDRX would lose its event; a board
 *   port should use the ENDRX_STARTRX short with two buffers swapped at RXSTARTED.
 * - TX: a RAM bounce buffer (the data may be in flash, which EasyDMA cannot read), one STARTTX
 *   per chunk, polled until ENDTX: safe from fault handlers.
 *
 * Pins are those of the Arduino Nano 33 BLE's D1/D0 (P1.03 TX, P1.10 RX); on an nRF52840-DK the
 * J-Link VCOM is P0.06 TX / P0.08 RX (change LINK_PIN_TX/RX). The Nano's USB port is the nRF's
 * own USB device, not a UART: wire a 3.3 V USB-serial adapter to D0/D1.
 */
#include "hil/board.h"

#include <stdatomic.h>
#include <stdbool.h>

#include "cycle_counter.h"
#include "hil/cortex_m.h"
#include "hil/init_steps.h"

_Static_assert(HIL_BOARD_LINK_IRQ == 2, "board.mk and board.c disagree on the UARTE0 IRQ");

/* CLOCK (nRF52840 PS v1.7, 5.4) */
#define CLOCK_BASE 0x40000000u
#define CLOCK_TASKS_HFCLKSTART HIL_REG32(CLOCK_BASE + 0x000u)
#define CLOCK_EVENTS_HFCLKSTARTED HIL_REG32(CLOCK_BASE + 0x100u)
/* POWER (5.3) */
#define POWER_RESETREAS HIL_REG32(0x40000400u)
#define RESETREAS_RESETPIN (1u << 0)
#define RESETREAS_DOG (1u << 1)
#define RESETREAS_SREQ (1u << 2)
#define RESETREAS_LOCKUP (1u << 3)
#define RESETREAS_OFF (1u << 16)

/* UARTE0 (6.34) */
#define UARTE0_BASE 0x40002000u
#define UARTE_TASKS_STARTRX HIL_REG32(UARTE0_BASE + 0x000u)
#define UARTE_TASKS_STARTTX HIL_REG32(UARTE0_BASE + 0x008u)
#define UARTE_EVENTS_ENDRX HIL_REG32(UARTE0_BASE + 0x110u)
#define UARTE_EVENTS_ENDTX HIL_REG32(UARTE0_BASE + 0x120u)
#define UARTE_EVENTS_ERROR HIL_REG32(UARTE0_BASE + 0x124u)
#define UARTE_INTENSET HIL_REG32(UARTE0_BASE + 0x304u)
#define UARTE_INTENCLR HIL_REG32(UARTE0_BASE + 0x308u)
#define UARTE_ERRORSRC HIL_REG32(UARTE0_BASE + 0x480u)
#define UARTE_ENABLE HIL_REG32(UARTE0_BASE + 0x500u)
#define UARTE_PSEL_RTS HIL_REG32(UARTE0_BASE + 0x508u)
#define UARTE_PSEL_TXD HIL_REG32(UARTE0_BASE + 0x50Cu)
#define UARTE_PSEL_CTS HIL_REG32(UARTE0_BASE + 0x510u)
#define UARTE_PSEL_RXD HIL_REG32(UARTE0_BASE + 0x514u)
#define UARTE_BAUDRATE HIL_REG32(UARTE0_BASE + 0x524u)
#define UARTE_RXD_PTR HIL_REG32(UARTE0_BASE + 0x534u)
#define UARTE_RXD_MAXCNT HIL_REG32(UARTE0_BASE + 0x538u)
#define UARTE_RXD_AMOUNT HIL_REG32(UARTE0_BASE + 0x53Cu)
#define UARTE_TXD_PTR HIL_REG32(UARTE0_BASE + 0x544u)
#define UARTE_TXD_MAXCNT HIL_REG32(UARTE0_BASE + 0x548u)
#define UARTE_CONFIG HIL_REG32(UARTE0_BASE + 0x56Cu)
#define UARTE_ENABLE_UARTE 8u
#define UARTE_INT_ENDRX (1u << 4)
#define UARTE_BAUD_115200 0x01D7E000u /* the PS's value: 115108 baud actual */
#define PSEL_DISCONNECTED 0xFFFFFFFFu
#define PSEL(port, pin) (((uint32_t)(port) << 5) | (uint32_t)(pin))

/* GPIO P1 (6.9): the TX pin drives high while idle */
#define GPIO_P1_BASE 0x50000300u
#define GPIO_OUTSET(base) HIL_REG32((base) + 0x508u)
#define GPIO_PIN_CNF(base, pin) HIL_REG32((base) + 0x700u + 4u * (uint32_t)(pin))
#define GPIO_PIN_CNF_OUTPUT 1u
#define GPIO_PIN_CNF_INPUT_PULLUP (3u << 2) /* DIR input, input buffer connected, pull-up */

#define LINK_PORT 1u
#define LINK_PIN_TX 3u
#define LINK_PIN_RX 10u
#define LINK_IRQ_PRIORITY 0x80u /* the nRF52840 implements the top 3 bits */
#define TX_CHUNK 64u
/* ~10 ms at 64 MHz for one 64-byte chunk to leave (5.6 ms at 115200): only a dead UARTE reaches it */
#define WAIT_LOOPS 200000u

static hil_ring_t *link_rx;
static volatile uint8_t rx_cell;      /* EasyDMA writes here: RAM, never the stack */
static uint8_t tx_chunk[TX_CHUNK];    /* EasyDMA reads here: RAM (data in flash cannot be sent) */
static uint32_t tx_timeouts;          /* visible in a debugger: a sign of a dead UARTE */
static uint32_t rx_errors;
static const char *hfclk_source = "hfint"; /* visible in a debugger: "hfxo" once the crystal ran */

static int clocks_init(void)
{
    /* HFXO for an accurate baud rate; the board runs on HFINT if the crystal does not start */
    CLOCK_EVENTS_HFCLKSTARTED = 0u;
    CLOCK_TASKS_HFCLKSTART = 1u;
    for (uint32_t loops = 0; loops < WAIT_LOOPS; loops++) {
        if (CLOCK_EVENTS_HFCLKSTARTED != 0u) {
            hfclk_source = "hfxo";
            return 0;
        }
    }
    return 0;
}

static int pins_init(void)
{
    GPIO_OUTSET(GPIO_P1_BASE) = 1u << LINK_PIN_TX;
    GPIO_PIN_CNF(GPIO_P1_BASE, LINK_PIN_TX) = GPIO_PIN_CNF_OUTPUT;
    GPIO_PIN_CNF(GPIO_P1_BASE, LINK_PIN_RX) = GPIO_PIN_CNF_INPUT_PULLUP;
    return 0;
}

static void rx_start(void)
{
    UARTE_RXD_PTR = (uint32_t)(uintptr_t)&rx_cell;
    UARTE_RXD_MAXCNT = 1u;
    UARTE_TASKS_STARTRX = 1u;
}

static int link_init(void)
{
    if (link_rx == NULL) {
        return -1;
    }
    UARTE_ENABLE = 0u;
    UARTE_PSEL_TXD = PSEL(LINK_PORT, LINK_PIN_TX);
    UARTE_PSEL_RXD = PSEL(LINK_PORT, LINK_PIN_RX);
    UARTE_PSEL_RTS = PSEL_DISCONNECTED;
    UARTE_PSEL_CTS = PSEL_DISCONNECTED;
    UARTE_BAUDRATE = UARTE_BAUD_115200;
    UARTE_CONFIG = 0u; /* no parity, one stop bit, no flow control */
    UARTE_EVENTS_ENDRX = 0u;
    UARTE_EVENTS_ENDTX = 0u;
    UARTE_EVENTS_ERROR = 0u;
    UARTE_ENABLE = UARTE_ENABLE_UARTE;
    UARTE_INTENSET = UARTE_INT_ENDRX;
    rx_start();
    hil_nvic_enable(HIL_BOARD_LINK_IRQ, LINK_IRQ_PRIORITY);
    return 0;
}

static int cost_counter_init(void)
{
    hil_cycle_counter_start();
    return 0;
}

int board_init(hil_ring_t *rx)
{
    static const hil_init_step_t steps[] = {clocks_init, pins_init, cost_counter_init, link_init};
    link_rx = rx;
    return hil_init_steps(steps, sizeof steps / sizeof steps[0]);
}

/* A burst longer than the ring is cut, but never its frame delimiter: the last free slot is
 * kept for a 0x00, so the agent resynchronises and answers the cut frame (OVERSIZE, BAD_CRC).
 * Renode hands the UART a host write all at once, so a 6 KiB stream meets the 4 KiB ring in one
 * go; on silicon at 115200 baud the main loop drains the ring faster than the line fills it. */
static void link_rx_push(uint8_t byte)
{
    const bool last_slot = hil_ring_count(link_rx) + 1u >= hil_ring_capacity(link_rx);
    if (byte != 0u && last_slot) {
        atomic_fetch_add_explicit(&link_rx->dropped, 1u, memory_order_relaxed);
        return;
    }
    if (!hil_ring_push(link_rx, byte)) {
        /* counted in the ring; the frame it belonged to fails its CRC and is answered */
    }
}

void board_link_irq_handler(void)
{
    if (UARTE_EVENTS_ERROR != 0u) {
        UARTE_EVENTS_ERROR = 0u;
        UARTE_ERRORSRC = UARTE_ERRORSRC; /* write-one-to-clear what was read */
        rx_errors++;
    }
    if (UARTE_EVENTS_ENDRX != 0u) {
        const uint8_t byte = rx_cell;
        /* Restart with ENDRX still set, then clear it, then start once more. Renode's model
         * DMAs a byte only while ENDRX is clear, and keeps writing past MAXCNT while it is
         * (it never stops its receiver): with ENDRX cleared first, a byte arriving before
         * STARTRX went to the next address, then the next... over the agent's state. The first
         * STARTRX resets the count with no byte taken (ENDRX set); the second pulls a byte
         * already queued, which nothing else would (the model pulls one per arrival). */
        UARTE_TASKS_STARTRX = 1u;
        UARTE_EVENTS_ENDRX = 0u;
        UARTE_TASKS_STARTRX = 1u;
        link_rx_push(byte);
    }
}

void board_uart_write(const uint8_t *data, size_t len)
{
    while (len > 0u) {
        const uint32_t chunk = len < TX_CHUNK ? (uint32_t)len : TX_CHUNK;
        for (uint32_t i = 0; i < chunk; i++) {
            tx_chunk[i] = data[i];
        }
        UARTE_EVENTS_ENDTX = 0u;
        UARTE_TXD_PTR = (uint32_t)(uintptr_t)tx_chunk;
        UARTE_TXD_MAXCNT = chunk;
        UARTE_TASKS_STARTTX = 1u;
        uint32_t loops = 0;
        while (UARTE_EVENTS_ENDTX == 0u) {
            if (++loops == WAIT_LOOPS) {
                tx_timeouts++;
                return;
            }
        }
        data += chunk;
        len -= chunk;
    }
}

int board_uart_flush(void)
{
    /* board_uart_write returns only after ENDTX: every byte has left the buffer */
    return 0;
}

void board_uart_quiesce(void)
{
    UARTE_INTENCLR = UARTE_INT_ENDRX;
    hil_nvic_disable(HIL_BOARD_LINK_IRQ);
}

uint32_t board_cost_counter(void)
{
    return hil_cycle_counter();
}

const char *board_reset_cause(void)
{
    const uint32_t flags = POWER_RESETREAS;
    POWER_RESETREAS = flags; /* write-one-to-clear: the next reset reports itself alone */
    if ((flags & RESETREAS_DOG) != 0u) {
        return "watchdog";
    }
    if ((flags & (RESETREAS_SREQ | RESETREAS_LOCKUP)) != 0u) {
        return "software";
    }
    if ((flags & RESETREAS_RESETPIN) != 0u) {
        return "pin";
    }
    if ((flags & RESETREAS_OFF) != 0u) {
        return "wake-from-off";
    }
    return NULL; /* all clear: a power-on reset (or Renode, which does not model RESETREAS) */
}
