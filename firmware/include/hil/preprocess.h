/*
 * Preprocessing on the device: raw int16 accelerometer counts -> int8 model input codes (or
 * int16 codes, zero point 0, for a 16x8 model: the *16 functions), integer-only (no FPU needed). The parameters come from the host: harness/quant/fold.py
 * (AffineFold.export / ThresholdFold.export), which also mirrors this code bit for bit.
 *
 * Affine channel (minmax, robust, zscore, two_stage scalers folded with the input quantization):
 *     x    = (int64)counts * multiplier + offset
 *     code = sign(x) * ((|x| + 2^(shift-1)) >> shift)        round half away from zero
 *     code = clamp(code + zero_point, code_min, code_max)
 * Threshold channel (any monotone scaler, e.g. log1p):
 *     code = code_base + number of thresholds[k] <= counts      (thresholds ascending)
 * int16 codes (16x8 models): affine channels only, code_min/code_max within int16; the same
 * arithmetic, wider rails. A threshold table of 65535 steps per channel fits no budget.
 */
#ifndef HIL_PREPROCESS_H
#define HIL_PREPROCESS_H

#include <stddef.h>
#include <stdint.h>

#define HIL_PREPROCESS_OK 0
#define HIL_PREPROCESS_EINVAL (-1) /* NULL pointer, bad shift, axis out of range, ... */
#define HIL_PREPROCESS_ESPACE (-2) /* output buffer too small */

#define HIL_PREPROCESS_THRESHOLDS 255 /* int8: one step per code above -128 */

typedef struct {
    int32_t multiplier; /* folded gain * 2^shift, |multiplier| < 2^31 */
    int32_t shift;      /* 1..62 */
    int64_t offset;     /* folded offset * 2^shift, |offset| < 2^61 */
    int32_t zero_point;
    int32_t code_min; /* int8 (int16) rail, narrowed by the scaler's clip */
    int32_t code_max;
} hil_affine_channel_t;

typedef struct {
    const int32_t *thresholds; /* n_thresholds ascending counts; 32768 = never reached */
    uint32_t n_thresholds;
    int32_t code_base; /* code below the first threshold (-128) */
} hil_threshold_channel_t;

typedef enum {
    HIL_CHANNEL_AFFINE = 1,
    HIL_CHANNEL_THRESHOLD = 2
} hil_channel_kind_t;

typedef struct {
    hil_channel_kind_t kind;
    uint32_t source_axis; /* which input axis this output channel reads */
    union {
        hil_affine_channel_t affine;
        hil_threshold_channel_t threshold;
    } map;
} hil_preprocess_channel_t;

/* One count through one affine channel. The channel must have passed hil_preprocess_check. */
int8_t hil_affine_code(const hil_affine_channel_t *channel, int16_t counts);

/* As hil_affine_code, to an int16 code: the channel must have passed hil_preprocess_check16. */
int16_t hil_affine_code16(const hil_affine_channel_t *channel, int16_t counts);

/* One count through one threshold channel (binary search, 8 steps for 255 thresholds). */
int8_t hil_threshold_code(const hil_threshold_channel_t *channel, int16_t counts);

/* Validates channel parameters; returns HIL_PREPROCESS_OK or HIL_PREPROCESS_EINVAL. */
int hil_preprocess_check(const hil_preprocess_channel_t *channels, size_t n_channels,
                         size_t n_axes);

/*
 * A window of samples: counts is n_samples x n_axes (sample-major, as the sensor FIFO delivers),
 * codes is n_samples x n_channels (sample-major, the model's (1, window, channels) layout).
 * Returns HIL_PREPROCESS_OK, HIL_PREPROCESS_EINVAL or HIL_PREPROCESS_ESPACE.
 */
int hil_preprocess_window(const hil_preprocess_channel_t *channels, size_t n_channels,
                          const int16_t *counts, size_t n_samples, size_t n_axes,
                          int8_t *codes, size_t codes_len);

/* As hil_preprocess_check, for int16 codes: affine channels only, rails within int16. */
int hil_preprocess_check16(const hil_preprocess_channel_t *channels, size_t n_channels,
                           size_t n_axes);

/* As hil_preprocess_window, to int16 codes (codes_len counts int16 elements). */
int hil_preprocess_window16(const hil_preprocess_channel_t *channels, size_t n_channels,
                            const int16_t *counts, size_t n_samples, size_t n_axes,
                            int16_t *codes, size_t codes_len);

#endif /* HIL_PREPROCESS_H */
