/* Build-time configuration; the Makefile passes these, the defaults are for other builds. */
#ifndef HIL_CONFIG_H
#define HIL_CONFIG_H

/* HIL_MAX_PAYLOAD, HIL_RX_RING_SIZE: the agent's */
#include "hil_agent/config.h"

#ifndef HIL_FIRMWARE_VERSION
#define HIL_FIRMWARE_VERSION "0.1.0"
#endif
#ifndef HIL_ENGINE_NAME
#define HIL_ENGINE_NAME "none"
#endif

#endif /* HIL_CONFIG_H */
