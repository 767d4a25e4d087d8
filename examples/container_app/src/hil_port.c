/*
 * What the harness sees of the product: the linked model (no upload: the harness judges the
 * image as shipped), the product's own float preprocessing (no SET_PREPROCESS), RESET, and the
 * inference cost from TIM2. INFO CAPABILITIES: INFER_CODES | INFER_WINDOW | RESET (0x13).
 */
#include "hil_port.h"

#include "bsp.h"
#include "hil/board.h"
#include "hil_agent/agent.h"
#include "model.h"
#include "preprocess.h"

static int port_model(hil_agent_model_t *model)
{
    return app_model_describe(model);
}

static int port_invoke(hil_agent_error_t *error)
{
    return app_model_invoke(error);
}

/* The constants were generated for one model's input: refuse a model they do not fit rather
 * than feed it codes on the wrong scale. */
static int port_window_shape(const hil_agent_tensor_t *input, uint32_t *n_axes, uint32_t *n_samples,
                             hil_agent_error_t *error)
{
    if (input->dtype != HIL_AGENT_DTYPE_INT8 || input->rank != 3u ||
        (uint32_t)input->dims[2] != preprocess_channels()) {
        hil_agent_error_set(error, HIL_LINK_ERR_SHAPE_MISMATCH, input->dtype);
        hil_agent_error_text(error, "model input is not int8 (1, window, ");
        hil_agent_error_int(error, preprocess_channels());
        hil_agent_error_text(error, ")");
        return -1;
    }
    if (input->scale != preprocess_input_scale() || input->zero_point != preprocess_input_zero_point()) {
        hil_agent_error_set(error, HIL_LINK_ERR_BAD_STATE, (uint32_t)input->zero_point);
        hil_agent_error_text(error, "model input quantization differs from the constants' (zero point ");
        hil_agent_error_int(error, preprocess_input_zero_point());
        hil_agent_error_text(error, "): build with the model's bundle");
        return -1;
    }
    *n_axes = preprocess_axes();
    *n_samples = (uint32_t)input->dims[1];
    return 0;
}

static int port_preprocess(const int16_t *counts, uint32_t n_samples, uint32_t n_axes,
                           const hil_agent_tensor_t *input, hil_agent_error_t *error)
{
    if (preprocess_window(counts, n_samples, n_axes, (int8_t *)input->data, input->bytes) != PREPROCESS_OK) {
        hil_agent_error_set(error, HIL_LINK_ERR_SHAPE_MISMATCH, n_samples);
        hil_agent_error_text(error, "window does not fill the input tensor");
        return -1;
    }
    return 0;
}

static const hil_agent_port_t port = {
    .firmware_version = APP_VERSION,
    .board = "netduinoplus2",
    .build_id = APP_BUILD_ID,
    .engine = APP_ENGINE,
    .cpu = "cortex-m4f",
    .cost_unit = "instructions", /* TIM2 under QEMU -icount shift=0 */
    .reset_cause = "power-on",   /* QEMU's RCC_CSR reads 0: it cannot tell */
    .write = board_uart_write, /* the BSP's polled USART1 write */
    .cycles = bsp_cost_counter,
    .model = port_model,
    .invoke = port_invoke,
    .arena_size = APP_ARENA_SIZE,
    .window_shape = port_window_shape,
    .preprocess = port_preprocess,
    .reset = bsp_reset,
};

const hil_agent_port_t *app_hil_port(void)
{
    return &port;
}
