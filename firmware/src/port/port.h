/* This firmware's port of the agent, in parts (src/port/); src/app/pipeline.c puts them together. */
#ifndef HIL_PORT_PARTS_H
#define HIL_PORT_PARTS_H

#include "hil_agent/port.h"

/* model, invoke, upload: the portable or tflm engine (hil/engine.h); loads a linked model.
 * Returns 0, or -2 when the linked model was refused. */
int hil_port_engine_setup(hil_agent_port_t *port);
/* window_shape, preprocess, SET_PREPROCESS and INFO PREPROCESS_CHANNELS: the fold
 * preprocessing of src/preprocess/ (hil/preprocess.h). Returns 0. */
int hil_port_preprocess_setup(hil_agent_port_t *port);

#endif /* HIL_PORT_PARTS_H */
