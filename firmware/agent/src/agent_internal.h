/* Shared between the agent's own sources; not part of its API. */
#ifndef HIL_AGENT_INTERNAL_H
#define HIL_AGENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hil_agent/agent.h"

/* the port given to hil_agent_init(); NULL before */
extern const hil_agent_port_t *hil_agent_port_;

/* agent_info.c: builds the fixed INFO tags; false if they do not fit */
bool hil_agent_info_init(const hil_agent_port_t *port);
/* agent_info.c: CAPABILITIES, once hil_agent_port_ is set */
void hil_agent_info_set_capabilities(const hil_agent_port_t *port);
/* agent_info.c: INFO (or BOOT) as type, with seq */
void hil_agent_reply_info(uint8_t type, uint16_t seq);

/* agent_dispatch.c: forgets the port's registered requests */
void hil_agent_dispatch_init(void);
/* agent_dispatch.c: serves one decoded frame (built-in, inference, the port's, or UNKNOWN_TYPE) */
void hil_agent_dispatch(const hil_frame_t *request);

/* infer_model.c (with infer_upload.c, infer.c): model state, upload and the inference
 * requests. Built without them (HIL_AGENT_NO_INFERENCE, agent.mk HIL_AGENT_INFERENCE=0) the
 * agent serves the link only. */
#ifndef HIL_AGENT_NO_INFERENCE
bool hil_agent_infer_enabled(void);
/* adopts the port's model at init; 0, or HIL_AGENT_ERR_MODEL */
int hil_agent_infer_init(void);
/* serves request if it is an inference request; returns false if not one */
bool hil_agent_infer_dispatch(const hil_frame_t *request);
/* is type one of the inference requests this port serves */
bool hil_agent_infer_serves(uint8_t type);
/* model tags 11-16 for INFO; returns bytes written (0 if cap is too small) */
size_t hil_agent_infer_info(uint8_t *out, size_t cap);
uint32_t hil_agent_infer_capabilities(void);
#else
static inline bool hil_agent_infer_enabled(void) { return false; }
static inline int hil_agent_infer_init(void) { return 0; }
static inline bool hil_agent_infer_dispatch(const hil_frame_t *request) { (void)request; return false; }
static inline bool hil_agent_infer_serves(uint8_t type) { (void)type; return false; }
static inline size_t hil_agent_infer_info(uint8_t *out, size_t cap) { (void)out; (void)cap; return 0u; }
static inline uint32_t hil_agent_infer_capabilities(void) { return 0u; }
#endif

/* Interrupt masking and the test-only faults: Cortex-M (ARMv7-M) instructions. Host builds
 * (unit tests) get stand-ins. */
#if defined(__arm__)
static inline void hil_agent_irq_disable(void) { __asm volatile("cpsid i" ::: "memory"); }
static inline void hil_agent_irq_enable(void) { __asm volatile("cpsie i" ::: "memory"); }
/* an undefined instruction: UsageFault (UNDEFINSTR), escalated to HardFault */
static inline void hil_agent_undefined_instruction(void) { __asm volatile("udf #0" ::: "memory"); }
#else
static inline void hil_agent_irq_disable(void) {}
static inline void hil_agent_irq_enable(void) {}
static inline void hil_agent_undefined_instruction(void) { __builtin_trap(); }
#endif

#endif /* HIL_AGENT_INTERNAL_H */
