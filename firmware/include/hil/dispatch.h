/*
 * Engine hook (firmware/README.md, "Engine hook"): an engine adds request types by defining
 * hil_engine_setup() (a weak default with no commands exists) and calling
 * hil_dispatch_register() from it. Its handlers answer with hil_reply() or hil_reply_error(),
 * exactly once per request.
 *
 * These are the agent's (hil_agent/agent.h) under the names engines already use.
 */
#ifndef HIL_DISPATCH_H
#define HIL_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "hil/link.h"
#include "hil_agent/agent.h"

typedef hil_agent_handler_fn hil_handler_fn;

/* Called once after the agent is up, before BOOT; returns 0 or a negative error. */
int hil_engine_setup(void);

/* Adds a request type. Returns 0, or -1 if the type is built in, taken, or the table is full. */
static inline int hil_dispatch_register(uint8_t type, hil_handler_fn handler)
{
    return hil_agent_register(type, handler);
}

static inline void hil_reply(uint8_t type, uint16_t seq, const uint8_t *payload, size_t len)
{
    hil_agent_reply(type, seq, payload, len);
}

static inline void hil_reply_error(uint16_t seq, uint8_t request_type, int code, uint32_t detail,
                                   const char *text)
{
    hil_agent_reply_error(seq, request_type, code, detail, text);
}

#endif /* HIL_DISPATCH_H */
