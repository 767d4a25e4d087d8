/*
 * The on-device pipeline (APP=pipeline): this firmware's port of the agent gets its engine half
 * (src/port/engine_port.c: model upload, the linked model, invoke) and its preprocessing half
 * (src/port/preprocess_port.c: SET_PREPROCESS and the fold preprocessing). The requests
 * themselves (docs/protocol.md, "Pipeline") are the agent's: firmware/agent/src/infer.c.
 */
#include "hil/pipeline.h"

#include "../port/port.h"

int hil_app_setup(hil_agent_port_t *port)
{
    /* preprocessing first: it cannot fail, and the engine's result is the one to report */
    if (hil_port_preprocess_setup(port) != 0) {
        return -1;
    }
    return hil_port_engine_setup(port);
}
