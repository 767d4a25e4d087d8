/*
 * The engine half of this firmware's port (hil_agent/port.h): the model and arena buffers, the
 * model linked into the image (make MODEL=path.tflite), and the portable or tflm engine behind
 * hil/engine.h. The agent owns the upload protocol and the replies.
 *
 * RAM: the uploaded model lives in a static buffer of HIL_MODEL_BUFFER_SIZE bytes and the
 * engine's tensors in an arena of HIL_ARENA_SIZE bytes, both 16-byte aligned. A linked model is
 * used in place from flash and loaded before the agent starts, so BOOT already reports it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hil/engine.h"
#include "hil/engine_agent.h"
#include "hil/pipeline.h"
#include "hil_agent/agent.h"
#include "port.h"

_Static_assert(HIL_MODEL_BUFFER_SIZE % 16u == 0u, "model buffer must be a multiple of 16 bytes");
_Static_assert(HIL_ARENA_SIZE % 16u == 0u, "arena must be a multiple of 16 bytes");

#ifdef HIL_LINKED_MODEL_PATH
/* make MODEL=path.tflite: the model is placed in flash, 16-byte aligned, and used in place. */
__asm__(".section .rodata.hil_linked_model,\"a\",%progbits\n"
        ".balign 16\n"
        ".global hil_linked_model\n"
        "hil_linked_model:\n"
        ".incbin \"" HIL_LINKED_MODEL_PATH "\"\n"
        ".global hil_linked_model_end\n"
        "hil_linked_model_end:\n"
        ".previous\n");
extern const uint8_t hil_linked_model[];
extern const uint8_t hil_linked_model_end[];
#endif

static uint8_t model_buffer[HIL_MODEL_BUFFER_SIZE] __attribute__((aligned(16)));
static uint8_t arena[HIL_ARENA_SIZE] __attribute__((aligned(16)));

static struct {
    hil_engine_t engine;
    bool loaded;
    const uint8_t *bytes; /* model_buffer or the linked model */
    uint32_t size;
} engine_state;

static void engine_unload(void)
{
    engine_state.loaded = false;
    engine_state.bytes = NULL;
    engine_state.size = 0u;
    memset(&engine_state.engine, 0, sizeof engine_state.engine);
}

/* MODEL_REJECTED: "STATUS op=N tensor=N detail=N needed=N given=N", detail = the hil_status */
static int engine_load(const uint8_t *bytes, uint32_t size, hil_agent_error_t *error)
{
    engine_unload();
    const hil_status status = hil_engine_load(bytes, size, arena, sizeof arena, &engine_state.engine);
    if (status != HIL_OK) {
        const hil_error_t *e = hil_engine_last_error(&engine_state.engine);
        hil_agent_error_set(error, HIL_LINK_ERR_MODEL_REJECTED, (uint32_t)status);
        hil_agent_error_text(error, hil_status_name(status));
        hil_agent_error_text(error, " op=");
        hil_agent_error_int(error, e->op_index);
        hil_agent_error_text(error, " tensor=");
        hil_agent_error_int(error, e->tensor_index);
        hil_agent_error_text(error, " detail=");
        hil_agent_error_int(error, e->detail);
        hil_agent_error_text(error, " needed=");
        hil_agent_error_int(error, e->needed);
        hil_agent_error_text(error, " given=");
        hil_agent_error_int(error, e->given);
        engine_unload();
        return -1;
    }
    engine_state.loaded = true;
    engine_state.bytes = bytes;
    engine_state.size = size;
    return 0;
}

static int engine_model(hil_agent_model_t *model)
{
    if (!engine_state.loaded) {
        return -1;
    }
    hil_engine_t *engine = &engine_state.engine;
    model->bytes = engine_state.bytes;
    model->size = engine_state.size;
    model->arena_used = hil_engine_arena_used(engine);
    model->n_inputs = (uint8_t)hil_engine_input_count(engine);
    model->n_outputs = (uint8_t)hil_engine_output_count(engine);
    hil_tensor_info_t input, output;
    if (hil_engine_input_info(engine, 0, &input) != HIL_OK || hil_engine_output_info(engine, 0, &output) != HIL_OK) {
        return -1;
    }
    /* the output pointer is read-only to the engine's callers; the agent only reads it */
    hil_agent_tensor_from_engine(&model->input, &input, hil_engine_input_data(engine, 0));
    hil_agent_tensor_from_engine(&model->output, &output, (void *)(uintptr_t)hil_engine_output_data(engine, 0));
    return 0;
}

static int engine_invoke(hil_agent_error_t *error)
{
    return hil_agent_engine_invoke(&engine_state.engine, error);
}

/* INFER_LAYERS over the engine's per-op entry points. They are weak here: an engine without them
 * (the tflm adapter) links, and the port then leaves the hooks out (INFO CAPABILITIES says so). */
extern int hil_engine_op_count(const hil_engine_t *engine) __attribute__((weak));
extern hil_status hil_engine_op_info(const hil_engine_t *engine, int op_index, hil_op_info_t *info)
    __attribute__((weak));
extern const void *hil_engine_op_output_data(const hil_engine_t *engine, int op_index) __attribute__((weak));
extern hil_status hil_engine_invoke_op(hil_engine_t *engine, int op_index) __attribute__((weak));

static int engine_layer_info(uint32_t index, hil_agent_layer_t *layer)
{
    hil_op_info_t info;
    if (!engine_state.loaded || index > 0x7FFFu ||
        hil_engine_op_info(&engine_state.engine, (int)index, &info) != HIL_OK) {
        return -1;
    }
    layer->n_layers = (uint32_t)hil_engine_op_count(&engine_state.engine);
    layer->op_code = (uint16_t)info.code;
    layer->tensor_index = (uint16_t)info.output_index;
    /* read-only to the agent, like the model output */
    hil_agent_tensor_from_engine(&layer->output, &info.output,
                (void *)(uintptr_t)hil_engine_op_output_data(&engine_state.engine, (int)index));
    return 0;
}

static int engine_invoke_layer(uint32_t index, hil_agent_error_t *error)
{
    const hil_status status = hil_engine_invoke_op(&engine_state.engine, (int)index);
    if (status != HIL_OK) {
        hil_agent_error_set(error, HIL_LINK_ERR_INVOKE_FAILED, (uint32_t)status);
        hil_agent_error_text(error, "op ");
        hil_agent_error_int(error, index);
        hil_agent_error_text(error, " failed: ");
        hil_agent_error_text(error, hil_status_name(status));
        return -1;
    }
    return 0;
}

static const hil_agent_upload_t upload = {
    .buffer = model_buffer,
    .size = sizeof model_buffer,
    .load = engine_load,
};

int hil_port_engine_setup(hil_agent_port_t *port)
{
    port->model = engine_model;
    port->invoke = engine_invoke;
    port->arena_size = sizeof arena;
    port->upload = &upload;
    port->unload = engine_unload;
    if (hil_engine_op_count != NULL && hil_engine_op_info != NULL && hil_engine_op_output_data != NULL &&
        hil_engine_invoke_op != NULL) {
        port->layer_info = engine_layer_info;
        port->invoke_layer = engine_invoke_layer;
    }
    engine_unload();
#ifdef HIL_LINKED_MODEL_PATH
    hil_agent_error_t error;
    hil_agent_error_init(&error);
    const uint32_t size = (uint32_t)(hil_linked_model_end - hil_linked_model);
    if (engine_load(hil_linked_model, size, &error) != 0) {
        return -2; /* BOOT then says "app setup failed"; INFO shows no model */
    }
#endif
    return 0;
}
