/*
 * Container monitor: the product's firmware with the HIL agent linked in. Set-up in order, each
 * step checked; then the agent serves the link and the core sleeps between requests.
 */
#include <stdint.h>

#include "bsp.h"
#include "hil_agent/agent.h"
#include "hil_port.h"
#include "idle.h"
#include "model.h"

static int model_init(void)
{
    return app_model_setup();
}

/* Before the RX interrupt: the agent's ring must exist when the first byte arrives. A model
 * the agent refuses (HIL_AGENT_ERR_MODEL) still leaves a working link that can say so. */
static int agent_init(int *model_rc)
{
    const int rc = hil_agent_init(app_hil_port());
    if (rc == HIL_AGENT_ERR_MODEL && *model_rc == 0) {
        *model_rc = -10;
    }
    return (rc == HIL_AGENT_OK || rc == HIL_AGENT_ERR_MODEL) ? 0 : -1;
}

static __attribute__((noreturn)) void serve_forever(void)
{
    for (;;) {
        if (!hil_agent_poll()) {
            hil_sleep_until_rx(); /* the BSP's (cortex-m/idle.c) */
        }
    }
}

int main(void)
{
    if (bsp_clocks_init() != 0) {
        bsp_halt();
    }
    if (bsp_fpu_enable() != 0) {
        bsp_halt();
    }
    if (bsp_cost_counter_init() != 0) {
        bsp_halt();
    }
    int model_rc = model_init(); /* reported after BOOT: INFO then shows no model */
    if (agent_init(&model_rc) != 0) {
        bsp_halt();
    }
    if (bsp_uart_init() != 0) {
        bsp_halt();
    }
    hil_agent_boot(); /* the host sends nothing before BOOT */
    if (model_rc != 0) {
        hil_agent_reply_error(HIL_SEQ_UNKNOWN, 0u, HIL_LINK_ERR_INTERNAL, (uint32_t)model_rc,
                              "model setup failed");
    }
    serve_forever();
}
