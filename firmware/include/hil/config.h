/* Build-time configuration; the Makefile passes these, the defaults are for other builds. */
#ifndef HIL_CONFIG_H
#define HIL_CONFIG_H

#ifndef HIL_FIRMWARE_VERSION
#define HIL_FIRMWARE_VERSION "0.1.0"
#endif
#ifndef HIL_ENGINE_NAME
#define HIL_ENGINE_NAME "none"
#endif
/* largest request/reply payload; the receive buffer holds one encoded frame of this size */
#ifndef HIL_MAX_PAYLOAD
#define HIL_MAX_PAYLOAD 2048u
#endif
/* power of two; more than one maximal frame, so a whole request fits while the main loop works */
#ifndef HIL_RX_RING_SIZE
#define HIL_RX_RING_SIZE 4096u
#endif

_Static_assert(HIL_MAX_PAYLOAD <= 0xFFFFu, "MAX_PAYLOAD is a u16 in INFO and in the header");
_Static_assert((HIL_RX_RING_SIZE & (HIL_RX_RING_SIZE - 1u)) == 0u, "RX ring size must be a power of two");
_Static_assert(HIL_RX_RING_SIZE <= 0xFFFFu, "RX_BUFFER is a u16 in INFO");

#endif /* HIL_CONFIG_H */
