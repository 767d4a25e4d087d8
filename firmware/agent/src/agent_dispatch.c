/* Dispatch: the built-in requests INFO, ECHO, RESET, the test-only CRASH and FAULT_ARM, the
 * inference requests (infer_model.c), then the port's own (hil_agent_register). */
#include "hil_agent/agent.h"

#include "agent_internal.h"
#include "hil/le.h"

typedef struct {
    uint8_t type;
    hil_agent_handler_fn handler;
} extra_handler_t;

static struct {
    extra_handler_t extra[HIL_AGENT_EXTRA_HANDLERS];
    size_t extra_count;
} handlers;

/* FAULT_ARM (test-only): the fault fires on a later request. In .bss, so any reset disarms it. */
static struct {
    uint8_t mode;       /* HIL_FAULT_MODE_*, 0 = disarmed */
    uint16_t remaining; /* requests still served normally before the fault */
} fault_arm;

void hil_agent_dispatch_init(void)
{
    handlers.extra_count = 0u;
}

/* ---- built-in requests -------------------------------------------------------------------------- */

static bool require_empty(const hil_frame_t *request)
{
    if (request->length != 0u) {
        hil_agent_reply_error(request->seq, request->type, HIL_LINK_ERR_BAD_PAYLOAD, request->length,
                              "request takes no payload");
        return false;
    }
    return true;
}

static void handle_reset(const hil_frame_t *request)
{
    hil_agent_reply(HIL_MSG_RESET | HIL_RESPONSE_BIT, request->seq, NULL, 0u);
    hil_agent_port_->reset(); /* drains the UART first: the reply must be on the wire */
}

static void handle_crash(const hil_frame_t *request)
{
    /* test-only: the fault handler sends FAULT and halts */
    hil_agent_undefined_instruction();
    hil_agent_reply_error(request->seq, request->type, HIL_LINK_ERR_INTERNAL, 0u, "udf did not fault");
}

static void handle_fault_arm(const hil_frame_t *request)
{
    if (request->length != HIL_FAULT_ARM_SIZE) {
        hil_agent_reply_error(request->seq, request->type, HIL_LINK_ERR_BAD_PAYLOAD, request->length,
                              "FAULT_ARM takes mode:u8 reserved:u8 after:u16");
        return;
    }
    const uint8_t mode = request->payload[0];
    if (mode != HIL_FAULT_MODE_HANG && mode != HIL_FAULT_MODE_CRASH && mode != 0u) {
        hil_agent_reply_error(request->seq, request->type, HIL_LINK_ERR_BAD_PAYLOAD, mode,
                              "unknown fault mode (0 disarm, 1 hang, 2 crash)");
        return;
    }
    fault_arm.mode = mode;
    fault_arm.remaining = hil_le_get_u16(request->payload + 2);
    hil_agent_reply(HIL_MSG_FAULT_ARM | HIL_RESPONSE_BIT, request->seq, NULL, 0u);
}

/* An armed fault counts the requests down, then fires instead of serving one: a hang (interrupts
 * masked, no reply ever; only a reset ends it) or a crash (HardFault -> FAULT frame, halt). */
static void fire_armed_fault(const hil_frame_t *request)
{
    if (fault_arm.mode == 0u) {
        return;
    }
    if (fault_arm.remaining > 0u) {
        fault_arm.remaining--;
        return;
    }
    const uint8_t mode = fault_arm.mode;
    fault_arm.mode = 0u;
    if (mode == HIL_FAULT_MODE_CRASH) {
        handle_crash(request);
        return;
    }
    hil_agent_irq_disable();
    for (;;) {
        __asm volatile("" ::: "memory");
    }
}

/* Types the agent answers itself (or reserves: replies, ERROR) and a port may not register. */
static bool is_builtin(uint8_t type)
{
    return type == HIL_MSG_INFO || type == HIL_MSG_ECHO || type == HIL_MSG_RESET ||
           type == HIL_MSG_CRASH || type == HIL_MSG_FAULT_ARM || type == HIL_MSG_ERROR ||
           (type & HIL_RESPONSE_BIT) != 0u || hil_agent_infer_serves(type);
}

int hil_agent_register(uint8_t type, hil_agent_handler_fn handler)
{
    if (hil_agent_port_ == NULL || handler == NULL || is_builtin(type) ||
        handlers.extra_count == HIL_AGENT_EXTRA_HANDLERS) {
        return -1;
    }
    for (size_t i = 0; i < handlers.extra_count; i++) {
        if (handlers.extra[i].type == type) {
            return -1;
        }
    }
    handlers.extra[handlers.extra_count].type = type;
    handlers.extra[handlers.extra_count].handler = handler;
    handlers.extra_count++;
    return 0;
}

void hil_agent_dispatch(const hil_frame_t *request)
{
    const hil_agent_port_t *port = hil_agent_port_;
    if (request->type == HIL_MSG_FAULT_ARM && port->fault_injection) {
        handle_fault_arm(request);
        return;
    }
    fire_armed_fault(request);
    switch (request->type) {
    case HIL_MSG_INFO:
        if (require_empty(request)) {
            hil_agent_reply_info(HIL_MSG_INFO | HIL_RESPONSE_BIT, request->seq);
        }
        return;
    case HIL_MSG_ECHO:
        hil_agent_reply(HIL_MSG_ECHO | HIL_RESPONSE_BIT, request->seq, request->payload, request->length);
        return;
    case HIL_MSG_RESET:
        if (port->reset != NULL) {
            if (require_empty(request)) {
                handle_reset(request);
            }
            return;
        }
        break;
    case HIL_MSG_CRASH:
        if (port->fault_injection) {
            if (require_empty(request)) {
                handle_crash(request);
            }
            return;
        }
        break;
    default:
        if (hil_agent_infer_dispatch(request)) {
            return;
        }
        break;
    }
    for (size_t i = 0; i < handlers.extra_count; i++) {
        if (handlers.extra[i].type == request->type) {
            handlers.extra[i].handler(request);
            return;
        }
    }
    hil_agent_reply_error(request->seq, request->type, HIL_LINK_ERR_UNKNOWN_TYPE, request->type, "unknown type");
}
