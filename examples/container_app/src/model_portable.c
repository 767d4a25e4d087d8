/* The linked model on the portable INT8 engine (firmware/src/engine/portable/, hil/engine.h). */
#include <stdbool.h>

#include "hil/engine.h"
#include "hil/engine_agent.h"
#include "model.h"

_Static_assert(APP_ARENA_SIZE % 16u == 0u, "the arena must be a multiple of 16 bytes");

static uint8_t arena[APP_ARENA_SIZE] __attribute__((aligned(16)));
static hil_engine_t engine;
static bool loaded;

int app_model_setup(void)
{
    const size_t size = (size_t)(app_model_data_end - app_model_data);
    if (hil_engine_load(app_model_data, size, arena, sizeof arena, &engine) != HIL_OK) {
        return -1;
    }
    if (hil_engine_input_count(&engine) != 1 || hil_engine_output_count(&engine) != 1) {
        return -2;
    }
    loaded = true;
    return 0;
}

int app_model_describe(hil_agent_model_t *model)
{
    hil_tensor_info_t input;
    hil_tensor_info_t output;
    if (!loaded || hil_engine_input_info(&engine, 0, &input) != HIL_OK ||
        hil_engine_output_info(&engine, 0, &output) != HIL_OK) {
        return -1;
    }
    model->bytes = app_model_data;
    model->size = (uint32_t)(app_model_data_end - app_model_data);
    model->arena_used = hil_engine_arena_used(&engine);
    model->n_inputs = 1u;
    model->n_outputs = 1u;
    hil_agent_tensor_from_engine(&model->input, &input, hil_engine_input_data(&engine, 0));
    /* the agent only reads the output */
    hil_agent_tensor_from_engine(&model->output, &output, (void *)(uintptr_t)hil_engine_output_data(&engine, 0));
    return 0;
}

int app_model_invoke(hil_agent_error_t *error)
{
    return hil_agent_engine_invoke(&engine, error);
}

const char *app_model_engine(void)
{
    return "portable";
}
