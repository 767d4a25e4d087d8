/*
 * Command dispatch: one request frame in, one reply frame out (docs/protocol.md).
 *
 * Engine hook: an inference engine adds its commands by defining hil_engine_setup() (a weak
 * default with no commands exists) and calling hil_dispatch_register() from it. Its handlers
 * answer with hil_reply() or hil_reply_error(), exactly once per request.
 */
#ifndef HIL_DISPATCH_H
#define HIL_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "hil/link.h"

typedef void (*hil_handler_fn)(const hil_frame_t *request);

/* sink: where reply frames go; reset_cause: reported in BOOT and INFO. Returns 0 or -1. */
int hil_dispatch_init(hil_sink_fn sink, void *context, const char *reset_cause);
/* Adds a request type. Returns 0, or -1 if the type is built in, taken, or the table is full. */
int hil_dispatch_register(uint8_t type, hil_handler_fn handler);
/* Called once after hil_dispatch_init(); returns 0 or a negative error. */
int hil_engine_setup(void);
/* Application hook (e.g. the pipeline, src/app/): called after hil_engine_setup() and before
 * BOOT, with a weak default that does nothing. Returns 0 or a negative error. */
int hil_app_setup(void);

/* Appends TLV entries to INFO and BOOT (state that changes at run time, e.g. the loaded model).
 * Writes at most cap bytes to out and returns the bytes written. */
typedef size_t (*hil_info_extension_fn)(uint8_t *out, size_t cap);
void hil_dispatch_set_info_extension(hil_info_extension_fn extension);

void hil_dispatch_boot(void);
void hil_dispatch_frame(const hil_frame_t *request);
/* A frame the codec rejected: ERROR with seq 0xFFFF. */
void hil_dispatch_rx_error(int code);

void hil_reply(uint8_t type, uint16_t seq, const uint8_t *payload, size_t len);
void hil_reply_error(uint16_t seq, uint8_t request_type, int code, uint32_t detail, const char *text);

#endif /* HIL_DISPATCH_H */
