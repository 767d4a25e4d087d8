/*
 * HIL link firmware: receives frames through an RX-interrupt ring, answers each one, and
 * sleeps (wfi) whenever the ring is empty.
 */
#include <stddef.h>
#include <stdint.h>

#include "hil/board.h"
#include "hil/config.h"
#include "hil/cortex_m.h"
#include "hil/dispatch.h"
#include "hil/info.h"
#include "hil/link.h"
#include "hil/ring.h"

static hil_ring_t rx_ring;
static uint8_t rx_storage[HIL_RX_RING_SIZE];
/* one encoded frame of maximal size; decoded in place, so ECHO replies straight from it */
static uint8_t frame_storage[HIL_FRAME_MAX_WIRE(HIL_MAX_PAYLOAD)];
static hil_frame_reader_t frame_reader;

static void link_sink(void *context, const uint8_t *data, size_t len)
{
    (void)context;
    board_uart_write(data, len);
}

static int ring_setup(void)
{
    return hil_ring_init(&rx_ring, rx_storage, sizeof rx_storage) ? 0 : -1;
}

static int reader_setup(void)
{
    return hil_frame_reader_init(&frame_reader, frame_storage, sizeof frame_storage,
                                 HIL_MAX_PAYLOAD) ? 0 : -1;
}

static int dispatch_setup(const char *reset_cause)
{
    return hil_dispatch_init(link_sink, NULL, reset_cause);
}

/* Interrupts are masked between the emptiness check and wfi: a byte arriving in that window
 * leaves its IRQ pending, which wakes wfi at once (PRIMASK only delays taking it). */
static void sleep_until_rx(void)
{
    hil_irq_disable();
    if (hil_ring_is_empty(&rx_ring)) {
        hil_dsb();
        hil_wfi();
    }
    hil_irq_enable();
    hil_isb();
}

static __attribute__((noreturn)) void serve_forever(void)
{
    for (;;) {
        uint8_t byte;
        if (!hil_ring_pop(&rx_ring, &byte)) {
            sleep_until_rx();
            continue;
        }
        hil_frame_t frame;
        int error = 0;
        switch (hil_frame_reader_push(&frame_reader, byte, &frame, &error)) {
        case HIL_RX_FRAME:
            hil_dispatch_frame(&frame);
            break;
        case HIL_RX_ERROR:
            hil_dispatch_rx_error(error);
            break;
        case HIL_RX_PENDING:
            break;
        }
    }
}

int main(void)
{
    const char *reset_cause = hil_reset_cause_take();
    /* before the link is up a failure has no one to tell: halt where a debugger sees it */
    if (ring_setup() != 0 || reader_setup() != 0) {
        hil_halt();
    }
    if (board_init(&rx_ring) != 0) {
        hil_halt();
    }
    if (dispatch_setup(reset_cause) != 0) {
        hil_reply_error(HIL_SEQ_UNKNOWN, 0u, HIL_LINK_ERR_INTERNAL, 0u, "dispatch setup failed");
        hil_halt();
    }
    const int engine_rc = hil_engine_setup();
    const int app_rc = hil_app_setup();
    /* BOOT only once the receiver is on: the host sends nothing before it sees BOOT */
    hil_dispatch_boot();
    if (engine_rc != 0) {
        /* the link commands still work; say why the engine's do not */
        hil_reply_error(HIL_SEQ_UNKNOWN, 0u, HIL_LINK_ERR_INTERNAL, (uint32_t)engine_rc, "engine setup failed");
    }
    if (app_rc != 0) {
        hil_reply_error(HIL_SEQ_UNKNOWN, 0u, HIL_LINK_ERR_INTERNAL, (uint32_t)app_rc, "app setup failed");
    }
    serve_forever();
}
