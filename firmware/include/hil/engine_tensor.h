/*
 * A tensor of the engine (hil/engine.h) as the agent describes it (hil_agent/port.h): the one
 * conversion every port over the portable engine needs (src/port/engine_port.c, the container
 * app's model_portable.c).
 */
#ifndef HIL_ENGINE_TENSOR_H
#define HIL_ENGINE_TENSOR_H

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

#endif /* HIL_ENGINE_TENSOR_H */
