/*
 * Integer-only preprocessing: see hil/preprocess.h. Mirrored bit for bit by
 * harness/quant/fold.py and checked over all 65536 counts, to int8 and to int16 codes, by
 * tests/quant/test_preprocess_c.py.
 */
#include "hil/preprocess.h"

#define COUNTS_LIMIT 32768 /* one past INT16_MAX: a threshold that is never reached */

static int32_t clamp_i32(int64_t value, int32_t lo, int32_t hi)
{
    if (value < lo) {
        return lo;
    }
    if (value > hi) {
        return hi;
    }
    return (int32_t)value;
}

/* The affine map to a code within [code_min, code_max]: one arithmetic for int8 and int16. */
static int32_t affine_code(const hil_affine_channel_t *channel, int16_t counts)
{
    const int64_t x = (int64_t)counts * channel->multiplier + channel->offset;
    const uint64_t half = (uint64_t)1 << (channel->shift - 1);
    /* Work on the magnitude: right-shifting negative values is implementation-defined in C11,
     * and rounding |x| half up is exactly TFLite's round-half-away-from-zero. |x| < 2^62. */
    const uint64_t magnitude = (uint64_t)(x < 0 ? -x : x);
    const int64_t rounded = (int64_t)((magnitude + half) >> channel->shift);
    const int64_t code = (x < 0 ? -rounded : rounded) + channel->zero_point;
    return clamp_i32(code, channel->code_min, channel->code_max);
}

int8_t hil_affine_code(const hil_affine_channel_t *channel, int16_t counts)
{
    return (int8_t)affine_code(channel, counts);
}

int16_t hil_affine_code16(const hil_affine_channel_t *channel, int16_t counts)
{
    return (int16_t)affine_code(channel, counts);
}

int8_t hil_threshold_code(const hil_threshold_channel_t *channel, int16_t counts)
{
    /* upper bound: number of thresholds <= counts */
    uint32_t lo = 0;
    uint32_t hi = channel->n_thresholds;
    while (lo < hi) {
        const uint32_t mid = lo + (hi - lo) / 2u;
        if (channel->thresholds[mid] <= (int32_t)counts) {
            lo = mid + 1u;
        } else {
            hi = mid;
        }
    }
    return (int8_t)clamp_i32((int64_t)channel->code_base + (int64_t)lo, INT8_MIN, INT8_MAX);
}

static int check_affine(const hil_affine_channel_t *affine, int32_t rail_min, int32_t rail_max)
{
    if (affine->shift < 1 || affine->shift > 62) {
        return HIL_PREPROCESS_EINVAL;
    }
    if (affine->offset >= ((int64_t)1 << 61) || affine->offset <= -((int64_t)1 << 61)) {
        return HIL_PREPROCESS_EINVAL;
    }
    if (affine->code_min < rail_min || affine->code_max > rail_max ||
        affine->code_min > affine->code_max) {
        return HIL_PREPROCESS_EINVAL;
    }
    return HIL_PREPROCESS_OK;
}

static int check_threshold(const hil_threshold_channel_t *threshold)
{
    if (threshold->thresholds == NULL || threshold->n_thresholds > HIL_PREPROCESS_THRESHOLDS) {
        return HIL_PREPROCESS_EINVAL;
    }
    if (threshold->code_base < INT8_MIN ||
        threshold->code_base + (int64_t)threshold->n_thresholds > INT8_MAX) {
        return HIL_PREPROCESS_EINVAL;
    }
    for (uint32_t k = 0; k < threshold->n_thresholds; ++k) {
        const int32_t t = threshold->thresholds[k];
        if (t < INT16_MIN || t > COUNTS_LIMIT) {
            return HIL_PREPROCESS_EINVAL;
        }
        if (k > 0 && t < threshold->thresholds[k - 1]) {
            return HIL_PREPROCESS_EINVAL; /* binary search needs ascending thresholds */
        }
    }
    return HIL_PREPROCESS_OK;
}

/* code_bits 8: affine or threshold channels, int8 rails; 16: affine channels, int16 rails */
static int check_channels(const hil_preprocess_channel_t *channels, size_t n_channels,
                          size_t n_axes, int code_bits)
{
    if (channels == NULL || n_channels == 0 || n_axes == 0) {
        return HIL_PREPROCESS_EINVAL;
    }
    for (size_t j = 0; j < n_channels; ++j) {
        const hil_preprocess_channel_t *channel = &channels[j];
        int status;
        if (channel->source_axis >= n_axes) {
            return HIL_PREPROCESS_EINVAL;
        }
        if (channel->kind == HIL_CHANNEL_AFFINE) {
            status = code_bits == 16 ? check_affine(&channel->map.affine, INT16_MIN, INT16_MAX)
                                     : check_affine(&channel->map.affine, INT8_MIN, INT8_MAX);
        } else if (channel->kind == HIL_CHANNEL_THRESHOLD && code_bits == 8) {
            status = check_threshold(&channel->map.threshold);
        } else {
            status = HIL_PREPROCESS_EINVAL;
        }
        if (status != HIL_PREPROCESS_OK) {
            return status;
        }
    }
    return HIL_PREPROCESS_OK;
}

int hil_preprocess_check(const hil_preprocess_channel_t *channels, size_t n_channels,
                         size_t n_axes)
{
    return check_channels(channels, n_channels, n_axes, 8);
}

int hil_preprocess_check16(const hil_preprocess_channel_t *channels, size_t n_channels,
                           size_t n_axes)
{
    return check_channels(channels, n_channels, n_axes, 16);
}

/* One window, sample by sample: code_bits 8 into int8_t codes, 16 into int16_t codes (affine). */
static int preprocess_window(const hil_preprocess_channel_t *channels, size_t n_channels,
                             const int16_t *counts, size_t n_samples, size_t n_axes, void *codes,
                             size_t codes_len, int code_bits)
{
    const int status = check_channels(channels, n_channels, n_axes, code_bits);
    if (status != HIL_PREPROCESS_OK) {
        return status;
    }
    if ((counts == NULL || codes == NULL) && n_samples > 0) {
        return HIL_PREPROCESS_EINVAL;
    }
    if (n_samples > codes_len / n_channels) {
        return HIL_PREPROCESS_ESPACE;
    }
    for (size_t i = 0; i < n_samples; ++i) {
        const int16_t *sample = &counts[i * n_axes];
        for (size_t j = 0; j < n_channels; ++j) {
            const hil_preprocess_channel_t *channel = &channels[j];
            const int16_t value = sample[channel->source_axis];
            const size_t at = i * n_channels + j;
            if (code_bits == 16) {
                ((int16_t *)codes)[at] = hil_affine_code16(&channel->map.affine, value);
            } else {
                ((int8_t *)codes)[at] = channel->kind == HIL_CHANNEL_AFFINE
                                            ? hil_affine_code(&channel->map.affine, value)
                                            : hil_threshold_code(&channel->map.threshold, value);
            }
        }
    }
    return HIL_PREPROCESS_OK;
}

int hil_preprocess_window(const hil_preprocess_channel_t *channels, size_t n_channels,
                          const int16_t *counts, size_t n_samples, size_t n_axes,
                          int8_t *codes, size_t codes_len)
{
    return preprocess_window(channels, n_channels, counts, n_samples, n_axes, codes, codes_len, 8);
}

int hil_preprocess_window16(const hil_preprocess_channel_t *channels, size_t n_channels,
                            const int16_t *counts, size_t n_samples, size_t n_axes,
                            int16_t *codes, size_t codes_len)
{
    return preprocess_window(channels, n_channels, counts, n_samples, n_axes, codes, codes_len, 16);
}
