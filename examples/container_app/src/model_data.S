/* The model, linked into flash: make MODEL=path/to/model.tflite (default: the bundle's INT8 file).
 * 16-byte aligned because the engine reads its weights and buffers in place. */
    .section .rodata.app_model_data, "a", %progbits
    .balign 16
    .global app_model_data
app_model_data:
    .incbin APP_MODEL_PATH
    .global app_model_data_end
app_model_data_end:
