/*
 * The product's preprocessing, in float as the team wrote it: accelerometer counts -> g ->
 * the training's scaler -> the model's input quantization, written into the input tensor.
 * The constants come from the training (model_constants.h, generated from the bundle).
 */
#ifndef APP_PREPROCESS_H
#define APP_PREPROCESS_H

#include <stdint.h>

#define PREPROCESS_OK 0
#define PREPROCESS_ERR_SHAPE (-1) /* the window does not fill the tensor, or has the wrong axes */

/* counts: n_samples x n_axes int16, sample-major; codes: n_samples x MODEL_CHANNELS int8. */
int preprocess_window(const int16_t *counts, uint32_t n_samples, uint32_t n_axes, int8_t *codes,
                      uint32_t n_codes);

/* The quantization the constants were generated for (checked against the linked model's input). */
float preprocess_input_scale(void);
int32_t preprocess_input_zero_point(void);
uint32_t preprocess_axes(void);
uint32_t preprocess_channels(void);

#endif /* APP_PREPROCESS_H */
