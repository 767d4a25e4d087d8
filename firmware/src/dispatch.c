/* Request handling: INFO, ECHO, RESET and the test-only CRASH and FAULT_ARM built in; an engine
 * registers more. */
#include "hil/dispatch.h"

#include <stdbool.h>
#include <string.h>

#include "hil/board.h"
#include "hil/config.h"
#include "hil/cortex_m.h"
#include "hil/info.h"
#include "hil/protocol.h"

#define EXTRA_HANDLERS 8u
#define INFO_CAPACITY 192u
#define INFO_EXTENSION_CAPACITY 64u
/* room for an engine error's fields: "UNSUPPORTED_OP op=12 tensor=-1 detail=..." */
#define ERROR_TEXT_MAX 96u

typedef struct {
    hil_handler_fn handler;
    uint8_t type;
} extra_handler_t;

static struct {
    hil_sink_fn sink;
    void *context;
    uint8_t info[INFO_CAPACITY];
    size_t info_len;
    hil_info_extension_fn info_extension;
    extra_handler_t extra[EXTRA_HANDLERS];
    size_t extra_count;
} dispatcher;

/* FAULT_ARM (test-only): the fault fires on a later request. In .bss, so any reset disarms it. */
static struct {
    uint8_t mode;       /* HIL_FAULT_MODE_*, 0 = disarmed */
    uint16_t remaining; /* requests still served normally before the fault */
} fault_arm;

/* Default: no engine, no extra commands. An engine's strong definition replaces it. */
__attribute__((weak)) int hil_engine_setup(void)
{
    return 0;
}

/* Default: no application. */
__attribute__((weak)) int hil_app_setup(void)
{
    return 0;
}

static void put_le16(uint8_t *out, uint32_t value)
{
    out[0] = (uint8_t)(value & 0xFFu);
    out[1] = (uint8_t)((value >> 8) & 0xFFu);
}

static void put_le32(uint8_t *out, uint32_t value)
{
    put_le16(out, value & 0xFFFFu);
    put_le16(out + 2, value >> 16);
}

void hil_reply(uint8_t type, uint16_t seq, const uint8_t *payload, size_t len)
{
    if (dispatcher.sink == NULL) {
        return; /* before init there is no link to answer on */
    }
    hil_frame_write(dispatcher.sink, dispatcher.context, type, seq, payload, len);
}

void hil_reply_error(uint16_t seq, uint8_t request_type, int code, uint32_t detail, const char *text)
{
    uint8_t payload[HIL_ERROR_HEADER_SIZE + ERROR_TEXT_MAX];
    size_t text_len = (text != NULL) ? strlen(text) : 0u;
    if (text_len > ERROR_TEXT_MAX) {
        text_len = ERROR_TEXT_MAX;
    }
    put_le16(payload, (uint32_t)code);
    payload[2] = request_type;
    payload[3] = 0u; /* reserved */
    put_le32(payload + 4, detail);
    if (text_len > 0u) {
        memcpy(payload + HIL_ERROR_HEADER_SIZE, text, text_len);
    }
    hil_reply(HIL_MSG_ERROR, seq, payload, HIL_ERROR_HEADER_SIZE + text_len);
}

static bool is_builtin(uint8_t type)
{
    return type == HIL_MSG_INFO || type == HIL_MSG_ECHO || type == HIL_MSG_RESET ||
           type == HIL_MSG_CRASH || type == HIL_MSG_FAULT_ARM || type == HIL_MSG_ERROR ||
           (type & HIL_RESPONSE_BIT) != 0u;
}

int hil_dispatch_init(hil_sink_fn sink, void *context, const char *reset_cause)
{
    if (sink == NULL || reset_cause == NULL) {
        return -1;
    }
    dispatcher.sink = sink;
    dispatcher.context = context;
    dispatcher.extra_count = 0;
    dispatcher.info_extension = NULL;
    dispatcher.info_len = hil_info_tlv(dispatcher.info, sizeof dispatcher.info, reset_cause);
    return dispatcher.info_len == 0u ? -1 : 0;
}

int hil_dispatch_register(uint8_t type, hil_handler_fn handler)
{
    if (handler == NULL || is_builtin(type) || dispatcher.extra_count == EXTRA_HANDLERS) {
        return -1;
    }
    for (size_t i = 0; i < dispatcher.extra_count; i++) {
        if (dispatcher.extra[i].type == type) {
            return -1;
        }
    }
    dispatcher.extra[dispatcher.extra_count].type = type;
    dispatcher.extra[dispatcher.extra_count].handler = handler;
    dispatcher.extra_count++;
    return 0;
}

void hil_dispatch_set_info_extension(hil_info_extension_fn extension)
{
    dispatcher.info_extension = extension;
}

/* The fixed TLV list, then whatever the extension appends now. */
static void reply_info(uint8_t type, uint16_t seq)
{
    uint8_t payload[INFO_CAPACITY + INFO_EXTENSION_CAPACITY];
    memcpy(payload, dispatcher.info, dispatcher.info_len);
    size_t len = dispatcher.info_len;
    if (dispatcher.info_extension != NULL) {
        const size_t added = dispatcher.info_extension(payload + len, INFO_EXTENSION_CAPACITY);
        len += (added <= INFO_EXTENSION_CAPACITY) ? added : 0u;
    }
    hil_reply(type, seq, payload, len);
}

void hil_dispatch_boot(void)
{
    reply_info(HIL_MSG_BOOT, 0u);
}

static bool require_empty(const hil_frame_t *request)
{
    if (request->length != 0u) {
        hil_reply_error(request->seq, request->type, HIL_LINK_ERR_BAD_PAYLOAD, request->length,
                        "request takes no payload");
        return false;
    }
    return true;
}

static void handle_reset(const hil_frame_t *request)
{
    hil_reply(HIL_MSG_RESET | HIL_RESPONSE_BIT, request->seq, NULL, 0u);
    /* the reply must be on the wire before the UART is reset with the chip */
    if (board_uart_flush() != 0) {
        /* a stuck UART would not deliver BOOT either; reset anyway, it is the best remedy */
    }
    hil_reset_cause_mark_software();
    hil_system_reset();
}

static void handle_crash(const hil_frame_t *request)
{
    (void)request;
    /* test-only: an undefined instruction -> UsageFault (UNDEFINSTR), escalated to HardFault,
     * whose handler sends FAULT and halts */
    __asm volatile("udf #0" ::: "memory");
    hil_reply_error(request->seq, request->type, HIL_LINK_ERR_INTERNAL, 0u, "udf did not fault");
}

static void handle_fault_arm(const hil_frame_t *request)
{
    if (request->length != HIL_FAULT_ARM_SIZE) {
        hil_reply_error(request->seq, request->type, HIL_LINK_ERR_BAD_PAYLOAD, request->length,
                        "FAULT_ARM takes mode:u8 reserved:u8 after:u16");
        return;
    }
    const uint8_t mode = request->payload[0];
    if (mode != HIL_FAULT_MODE_HANG && mode != HIL_FAULT_MODE_CRASH && mode != 0u) {
        hil_reply_error(request->seq, request->type, HIL_LINK_ERR_BAD_PAYLOAD, mode,
                        "unknown fault mode (0 disarm, 1 hang, 2 crash)");
        return;
    }
    fault_arm.mode = mode;
    fault_arm.remaining = (uint16_t)(request->payload[2] | (request->payload[3] << 8));
    hil_reply(HIL_MSG_FAULT_ARM | HIL_RESPONSE_BIT, request->seq, NULL, 0u);
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
    __asm volatile("cpsid i" ::: "memory");
    for (;;) {
        __asm volatile("" ::: "memory");
    }
}

void hil_dispatch_frame(const hil_frame_t *request)
{
    if (request->type == HIL_MSG_FAULT_ARM) {
        handle_fault_arm(request);
        return;
    }
    fire_armed_fault(request);
    switch (request->type) {
    case HIL_MSG_INFO:
        if (require_empty(request)) {
            reply_info(HIL_MSG_INFO | HIL_RESPONSE_BIT, request->seq);
        }
        return;
    case HIL_MSG_ECHO:
        hil_reply(HIL_MSG_ECHO | HIL_RESPONSE_BIT, request->seq, request->payload, request->length);
        return;
    case HIL_MSG_RESET:
        if (require_empty(request)) {
            handle_reset(request);
        }
        return;
    case HIL_MSG_CRASH:
        if (require_empty(request)) {
            handle_crash(request);
        }
        return;
    default:
        break;
    }
    for (size_t i = 0; i < dispatcher.extra_count; i++) {
        if (dispatcher.extra[i].type == request->type) {
            dispatcher.extra[i].handler(request);
            return;
        }
    }
    hil_reply_error(request->seq, request->type, HIL_LINK_ERR_UNKNOWN_TYPE, request->type, "unknown type");
}

static const char *rx_error_text(int code)
{
    switch (code) {
    case HIL_LINK_ERR_BAD_COBS:
        return "bad COBS";
    case HIL_LINK_ERR_TRUNCATED:
        return "truncated frame";
    case HIL_LINK_ERR_BAD_CRC:
        return "CRC mismatch";
    case HIL_LINK_ERR_BAD_VERSION:
        return "unknown protocol version";
    case HIL_LINK_ERR_BAD_LENGTH:
        return "length does not match the frame";
    case HIL_LINK_ERR_OVERSIZE:
        return "frame exceeds max payload";
    default:
        return "rejected frame";
    }
}

void hil_dispatch_rx_error(int code)
{
    const uint32_t detail = (code == HIL_LINK_ERR_OVERSIZE) ? HIL_MAX_PAYLOAD : 0u;
    hil_reply_error(HIL_SEQ_UNKNOWN, 0u, code, detail, rx_error_text(code));
}
