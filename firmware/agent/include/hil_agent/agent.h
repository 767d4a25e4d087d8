/*
 * hil_agent/agent.h - the HIL agent: the harness's link protocol (docs/protocol.md) in a small
 * C11 library that any Cortex-M firmware links. The team supplies a port (hil_agent/port.h).
 *
 *   hil_agent_init(&port);            once, before the UART receive interrupt is enabled
 *   ... enable the UART RX interrupt; its handler calls hil_agent_rx_feed() ...
 *   hil_agent_boot();                 BOOT: the host sends nothing before it sees it
 *   for (;;) { if (!hil_agent_poll()) { sleep until an interrupt } }
 *
 * and, from the HardFault handler, hil_agent_report_fault(). Nothing is allocated: the RX ring
 * (HIL_RX_RING_SIZE), the frame buffer and the inference reply buffer (HIL_MAX_PAYLOAD each)
 * are static. Requests are served in the order they arrive, one at a time, from
 * hil_agent_poll(); never call the agent's functions from two contexts at once, except
 * hil_agent_rx_feed() (one ISR producer) and hil_agent_report_fault().
 */
#ifndef HIL_AGENT_H
#define HIL_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hil/link.h"
#include "hil/protocol.h"
#include "hil_agent/config.h"
#include "hil_agent/port.h"
#ifndef __cplusplus
#include "hil/ring.h" /* C11 atomics: hil_agent_rx_ring() is for C callers */
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * INFO / BOOT tag CAPABILITIES: u32 little-endian bitmask of the optional requests this
 * firmware serves. Appended after every other tag, so hosts that predate it skip it (tags
 * they do not know are kept aside, see harness/link/protocol.py parse_info). The tag is
 * HIL_TAG_CAPABILITIES in hil/protocol.h; the bits are checked against harness/link/protocol.py
 * Capability by tests/firmware/test_protocol_tables.py.
 */
#define HIL_AGENT_TAG_CAPABILITIES ((uint8_t)HIL_TAG_CAPABILITIES)
#define HIL_AGENT_CAP_INFER_CODES (1u << 0)     /* MODEL_INFO, INFER_CODES */
#define HIL_AGENT_CAP_INFER_WINDOW (1u << 1)    /* INFER_WINDOW: raw windows, the port's preprocessing */
#define HIL_AGENT_CAP_MODEL_UPLOAD (1u << 2)    /* LOAD_BEGIN, LOAD_CHUNK, LOAD_END */
#define HIL_AGENT_CAP_SET_PREPROCESS (1u << 3)  /* SET_PREPROCESS (host-configured fold preprocessing) */
#define HIL_AGENT_CAP_RESET (1u << 4)           /* RESET */
#define HIL_AGENT_CAP_FAULT_INJECTION (1u << 5) /* CRASH, FAULT_ARM; FAULT from the fault handler */
#define HIL_AGENT_CAP_INFER_LAYERS (1u << 6)    /* INFER_LAYERS: every op's output tensor (port invoke_layer) */

/* MODEL_INFO source byte / INFO MODEL_SOURCE */
#define HIL_AGENT_MODEL_SOURCE_NONE 0u
#define HIL_AGENT_MODEL_SOURCE_LINKED 1u
#define HIL_AGENT_MODEL_SOURCE_UPLOADED 2u

/* hil_agent_init() results */
#define HIL_AGENT_OK 0
#define HIL_AGENT_ERR_PORT (-1)  /* a required port field is missing: the agent is not usable */
#define HIL_AGENT_ERR_INFO (-2)  /* the INFO strings do not fit one INFO payload */
#define HIL_AGENT_ERR_MODEL (-3) /* the port's linked model was refused (INFO shows no model);
                                    everything else works, an upload may replace it */
#define HIL_AGENT_ERR_TABLE (-4) /* port->requests: a type is built in, taken, or the table is full */

/* Checks the port, sets up the RX ring and the frame reader, registers the port's requests and
 * adopts the model the port already runs (if any). Sends nothing. Returns HIL_AGENT_OK or an
 * HIL_AGENT_ERR_* code; after HIL_AGENT_ERR_MODEL or _TABLE the link works and can say why. */
int hil_agent_init(const hil_agent_port_t *port);

/* Received bytes, from the UART RX interrupt or a DMA callback (one producer). Bytes that do not
 * fit in the ring are dropped and counted; the frame they belonged to then fails its CRC and the
 * host is told. */
void hil_agent_rx_feed(const uint8_t *data, size_t len);
#ifndef __cplusplus
/* The RX ring itself, for an ISR that pushes bytes one at a time (hil_ring_push). */
hil_ring_t *hil_agent_rx_ring(void);
#endif
/* True when received bytes wait to be served (check it with interrupts masked before sleeping). */
bool hil_agent_rx_pending(void);
/* Serves every byte in the ring: decodes frames and answers them. Returns true if it consumed
 * any byte. Call it from the main loop (a request may take as long as an inference). */
bool hil_agent_poll(void);

/* Sends BOOT (the INFO TLV list, seq 0). Call once after the receiver is enabled. */
void hil_agent_boot(void);

/* Adds a request type served by handler (which answers once, with hil_agent_reply*). Returns 0,
 * or -1 if the type is the agent's own, already taken, or the table (HIL_AGENT_EXTRA_HANDLERS)
 * is full. */
int hil_agent_register(uint8_t type, hil_agent_handler_fn handler);

void hil_agent_reply(uint8_t type, uint16_t seq, const uint8_t *payload, size_t len);
void hil_agent_reply_error(uint16_t seq, uint8_t request_type, int code, uint32_t detail,
                           const char *text);
/* ERROR reply to request from a filled hil_agent_error_t. */
void hil_agent_reply_failure(const hil_frame_t *request, const hil_agent_error_t *error);

/* The FAULT frame: 12 words CFSR HFSR MMFAR BFAR R0 R1 R2 R3 R12 LR PC xPSR, preceded by a lone
 * 0x00 that ends any half-sent frame. Safe from a fault handler (polled write, no state). The
 * caller then drains the UART and halts. */
void hil_agent_report_fault(const uint32_t words[HIL_FAULT_WORDS]);

/* The loaded model's input tensor, or NULL when no model is loaded. */
const hil_agent_tensor_t *hil_agent_model_input(void);

/* Short error texts without printf. */
void hil_agent_error_init(hil_agent_error_t *error);
void hil_agent_error_set(hil_agent_error_t *error, int code, uint32_t detail);
void hil_agent_error_text(hil_agent_error_t *error, const char *text);
void hil_agent_error_int(hil_agent_error_t *error, int64_t value);

#ifdef __cplusplus
}
#endif

#endif /* HIL_AGENT_H */
