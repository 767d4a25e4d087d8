/*
 * The engine (hil/engine.h) as the agent sees it (hil_agent/port.h): its tensors as the agent's,
 * and an invoke that says why it failed. What every port over the engine needs
 * (src/port/engine_port.c, the container app's model_portable.c).
 */
#ifndef HIL_ENGINE_AGENT_H
#define HIL_ENGINE_AGENT_H

#include <string.h>

#include "hil/engine.h"
#include "hil_agent/agent.h"

_Static_assert(HIL_ENGINE_MAX_DIMS == HIL_AGENT_MAX_DIMS, "engine and agent tensors have the same rank limit");

/* data: the tensor's bytes (an output is read-only to the agent, which only reads it) */
static inline void hil_agent_tensor_from_engine(hil_agent_tensor_t *tensor, const hil_tensor_info_t *info,
                                                void *data)
{
    memset(tensor, 0, sizeof *tensor);
    tensor->data = data;
    tensor->bytes = info->bytes;
    tensor->dtype = (uint8_t)info->dtype;
    tensor->rank = info->rank;
    for (uint32_t d = 0; d < HIL_AGENT_MAX_DIMS && d < info->rank; d++) {
        tensor->dims[d] = info->dims[d];
    }
    tensor->scale = info->scale;
    tensor->zero_point = info->zero_point;
}

/* hil_engine_invoke; on failure INVOKE_FAILED, detail the hil_status, "invoke failed: <name>" */
static inline int hil_agent_engine_invoke(hil_engine_t *engine, hil_agent_error_t *error)
{
    const hil_status status = hil_engine_invoke(engine);
    if (status != HIL_OK) {
        hil_agent_error_set(error, HIL_LINK_ERR_INVOKE_FAILED, (uint32_t)status);
        hil_agent_error_text(error, "invoke failed: ");
        hil_agent_error_text(error, hil_status_name(status));
        return -1;
    }
    return 0;
}

#endif /* HIL_ENGINE_AGENT_H */
