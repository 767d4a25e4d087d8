/*
 * counts -> g (counts / COUNTS_PER_G) -> y = clip(g * gain + offset, lo, hi) per channel (the
 * training's min-max or robust scaler in affine form) -> INT8 input codes.
 *
 * Default: the input quantization as TFLite's QUANTIZE computes it, q = round(y / scale) + zp
 * with round half away from zero, a float32 division, clamped to [-128, 127].
 *
 * PREPROCESS_WRAP_BUG=1 (make VARIANT=minmax_wrap) is the field report's code instead: y in
 * [0, 1] mapped to 0..255 and cast to int8 without the zero point, so 128..255 wrap to
 * -128..-1, as numpy's astype(np.int8) does in the seed. The model then sees the wrong codes.
 */
#include "preprocess.h"

#include <math.h>

#include "model_constants.h"

static const uint8_t source_axis[MODEL_CHANNELS] = SCALER_SOURCE_AXIS;
static const float gain[MODEL_CHANNELS] = SCALER_GAIN;
static const float offset[MODEL_CHANNELS] = SCALER_OFFSET;
static const float clip_lo[MODEL_CHANNELS] = SCALER_CLIP_LO;
static const float clip_hi[MODEL_CHANNELS] = SCALER_CLIP_HI;

static float scale_channel(float g, uint32_t channel)
{
    float y = g * gain[channel] + offset[channel];
    if (y < clip_lo[channel]) {
        y = clip_lo[channel];
    }
    if (y > clip_hi[channel]) {
        y = clip_hi[channel];
    }
    return y;
}

#if PREPROCESS_WRAP_BUG
static int8_t quantize(float y)
{
    return (int8_t)(int32_t)roundf(y * 255.0f); /* the bug: no zero point, wraps at 128 */
}
#else
static int8_t quantize(float y)
{
    float rounded = roundf(y / MODEL_INPUT_SCALE); /* roundf: half away from zero, like TFLite */
    /* bound before the int cast (out of range is undefined); any |value| > 255 clamps alike */
    if (rounded > 255.0f) {
        rounded = 255.0f;
    }
    if (rounded < -256.0f) {
        rounded = -256.0f;
    }
    int32_t code = (int32_t)rounded + MODEL_INPUT_ZERO_POINT;
    if (code < -128) {
        code = -128;
    }
    if (code > 127) {
        code = 127;
    }
    return (int8_t)code;
}
#endif

int preprocess_window(const int16_t *counts, uint32_t n_samples, uint32_t n_axes, int8_t *codes,
                      uint32_t n_codes)
{
    if (n_axes != SENSOR_AXES || n_samples * MODEL_CHANNELS != n_codes) {
        return PREPROCESS_ERR_SHAPE;
    }
    for (uint32_t s = 0u; s < n_samples; s++) {
        const int16_t *sample = &counts[s * n_axes];
        for (uint32_t c = 0u; c < MODEL_CHANNELS; c++) {
            const float g = (float)sample[source_axis[c]] / SENSOR_COUNTS_PER_G;
            codes[s * MODEL_CHANNELS + c] = quantize(scale_channel(g, c));
        }
    }
    return PREPROCESS_OK;
}

float preprocess_input_scale(void)
{
    return MODEL_INPUT_SCALE;
}

int32_t preprocess_input_zero_point(void)
{
    return MODEL_INPUT_ZERO_POINT;
}

uint32_t preprocess_axes(void)
{
    return SENSOR_AXES;
}

uint32_t preprocess_channels(void)
{
    return MODEL_CHANNELS;
}
