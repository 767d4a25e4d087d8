/*
 * This firmware is one port of the HIL agent (firmware/agent/, hil_agent/port.h): the board
 * layer gives it the link UART and the cost counter, the pipeline (APP=pipeline) the engine and
 * the fold preprocessing. main() sets them up in order, then serves the link and sleeps (wfi,
 * cortex-m/idle.c) whenever the RX ring is empty.
 */
#include <stddef.h>
#include <stdint.h>

#include "hil/board.h"
#include "hil/config.h"
#include "hil/cortex_m.h"
#include "hil/dispatch.h"
#include "hil/info.h"
#include "hil/pipeline.h"
#include "hil_agent/agent.h"
#include "idle.h"

static hil_agent_port_t port;

/* Default: no engine hook, no extra commands. An engine's strong definition replaces it. */
__attribute__((weak)) int hil_engine_setup(void)
{
    return 0;
}

/* Default: no application, so no inference requests. */
__attribute__((weak)) int hil_app_setup(hil_agent_port_t *app_port)
{
    (void)app_port;
    return 0;
}

static void board_reset(void)
{
    /* the reply must be on the wire before the UART is reset with the chip */
    if (board_uart_flush() != 0) {
        /* a stuck UART would not deliver BOOT either; reset anyway, it is the best remedy */
    }
    hil_reset_cause_mark_software();
    hil_system_reset();
}

static void board_port_setup(const char *reset_cause)
{
    port.firmware_version = HIL_FIRMWARE_VERSION;
    port.board = HIL_BOARD_NAME;
    port.build_id = hil_build_id();
    port.engine = HIL_ENGINE_NAME;
    port.cpu = HIL_BOARD_CPU;
    port.cost_unit = HIL_BOARD_COST_UNIT;
    port.reset_cause = reset_cause;
    port.write = board_uart_write;
    port.cycles = board_cost_counter;
    port.reset = board_reset;
    port.fault_injection = true; /* cortex-m/fault.c reports through hil_agent_report_fault() */
}

static __attribute__((noreturn)) void serve_forever(void)
{
    for (;;) {
        if (!hil_agent_poll()) {
            hil_sleep_until_rx();
        }
    }
}

int main(void)
{
    board_port_setup(hil_reset_cause_take());
    int app_rc = hil_app_setup(&port);
    const int agent_rc = hil_agent_init(&port);
    if (agent_rc == HIL_AGENT_ERR_PORT) {
        hil_halt(); /* no link to tell anyone: halt where a debugger sees it */
    }
    if (agent_rc == HIL_AGENT_ERR_MODEL && app_rc == 0) {
        app_rc = -2; /* the linked model loaded but does not fit the protocol; INFO shows none */
    }
    if (board_init(hil_agent_rx_ring()) != 0) {
        hil_halt();
    }
    if (agent_rc == HIL_AGENT_ERR_INFO || agent_rc == HIL_AGENT_ERR_TABLE) {
        hil_agent_reply_error(HIL_SEQ_UNKNOWN, 0u, HIL_LINK_ERR_INTERNAL, 0u, "dispatch setup failed");
        hil_halt();
    }
    const int engine_rc = hil_engine_setup();
    /* BOOT only once the receiver is on: the host sends nothing before it sees BOOT */
    hil_agent_boot();
    if (engine_rc != 0) {
        /* the link commands still work; say why the engine's do not */
        hil_agent_reply_error(HIL_SEQ_UNKNOWN, 0u, HIL_LINK_ERR_INTERNAL, (uint32_t)engine_rc, "engine setup failed");
    }
    if (app_rc != 0) {
        hil_agent_reply_error(HIL_SEQ_UNKNOWN, 0u, HIL_LINK_ERR_INTERNAL, (uint32_t)app_rc, "app setup failed");
    }
    serve_forever();
}
