/*
 * The agent's build-time sizes. A team's Makefile may pass them (-DHIL_MAX_PAYLOAD=2048u ...);
 * these defaults are the harness's (firmware/Makefile MAX_PAYLOAD, RX_RING_SIZE).
 */
#ifndef HIL_AGENT_CONFIG_H
#define HIL_AGENT_CONFIG_H

/* largest request/reply payload; the frame buffer holds one encoded frame of this size and the
 * inference reply buffer one payload */
#ifndef HIL_MAX_PAYLOAD
#define HIL_MAX_PAYLOAD 2048u
#endif
/* power of two; more than one maximal frame, so a whole request fits while the device works */
#ifndef HIL_RX_RING_SIZE
#define HIL_RX_RING_SIZE 4096u
#endif
/* requests a port (or an engine hook) may add with hil_agent_register() */
#ifndef HIL_AGENT_EXTRA_HANDLERS
#define HIL_AGENT_EXTRA_HANDLERS 8u
#endif

#ifndef __cplusplus /* C11's spelling; the checks run where the agent is compiled */
_Static_assert(HIL_MAX_PAYLOAD <= 0xFFFFu, "MAX_PAYLOAD is a u16 in INFO and in the header");
_Static_assert(HIL_MAX_PAYLOAD >= 64u, "MAX_PAYLOAD must hold INFO and an ERROR with its text");
_Static_assert((HIL_RX_RING_SIZE & (HIL_RX_RING_SIZE - 1u)) == 0u, "RX ring size must be a power of two");
_Static_assert(HIL_RX_RING_SIZE <= 0xFFFFu, "RX_BUFFER is a u16 in INFO");
#endif

#endif /* HIL_AGENT_CONFIG_H */
