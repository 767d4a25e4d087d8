/* SOFTMAX int16 -> int16: TFLM's softmax_common.cc prepare (input and output zero point 0,
 * output scale 1/32768 within 0.1 %, the exp and 1/(1+x) LUTs built by LUTPopulate<int16_t> in
 * float) and reference_ops::SoftmaxInt16 (LUTLookup with 7-bit interpolation). */
#include <math.h>

#include "pe_int16.h"

typedef float (*pe_lut_fn)(float);

static float pe_lut_exp(float x)
{
    return expf(x);
}

static float pe_lut_one_over_one_plus_x(float x)
{
    return 1.0f / (1.0f + x);
}

static float pe_lut_clamp(float v)
{
    return v < -32768.0f ? -32768.0f : (v > 32767.0f ? 32767.0f : v);
}

/* detail::LUTPopulateInt16<float>: 512 samples, each biased by half the interpolation error at
 * its segment's midpoint, plus the end value. Every expression in float, in TFLite's order. */
static void pe_lut16_populate(float input_scale, int32_t input_zero_point, float output_scale,
                              int32_t output_zero_point, pe_lut_fn transform, int16_t *lut)
{
    const float input_min = input_scale * (float)(-32768 - input_zero_point);
    const float input_max = input_scale * (float)(32767 - input_zero_point);
    const float output_min = output_scale * (float)(-32768 - output_zero_point);
    const float output_max = output_scale * (float)(32767 - output_zero_point);
    const int nb_steps = 512;
    const float step = (input_max - input_min) / (float)nb_steps;
    const float half_step = step / 2.0f;
    const float output_scaling_inv = 65536.0f / (output_max - output_min);
    for (int i = 0; i < nb_steps; ++i) {
        const float val = transform(input_min + (float)i * step);
        const float val_midpoint = transform(input_min + (float)i * step + half_step);
        const float val_next = transform(input_min + (float)(i + 1) * step);
        const float sample_val = roundf(val * output_scaling_inv);
        const float midpoint_interp_val = roundf((val_next * output_scaling_inv + roundf(val * output_scaling_inv)) / 2.0f);
        const float midpoint_val = roundf(val_midpoint * output_scaling_inv);
        const float midpoint_err = midpoint_interp_val - midpoint_val;
        const float bias = roundf(midpoint_err / 2.0f);
        lut[i] = (int16_t)pe_lut_clamp(sample_val - bias);
    }
    lut[nb_steps] = (int16_t)pe_lut_clamp(roundf(transform(input_max) * output_scaling_inv));
}

hil_status pe_softmax16_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    pe_softmax16_params *p = &op->p.i16.softmax;
    hil_status st;
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    const pe_tensor *out = &s->tensors[op->output];
    /* int8 -> int16 softmax (TFLM has it) is not produced by the 16x8 converter: refused. */
    if ((st = pe_expect_softmax_io(s, op_index, PE_TYPE_INT16)) != HIL_OK) {
        return st;
    }
    /* TF_LITE_ENSURE_NEAR(output scale, 1/32768, 0.001/32768), in float. */
    const float expected = 1.0f / 32768.0f;
    const float delta = out->scale > expected ? out->scale - expected : expected - out->scale;
    if (delta > 0.001f * 1.0f / 32768.0f) {
        return pe_fail(s, HIL_ERR_BAD_QUANTIZATION, op_index, op->output, 0);
    }
    p->depth = in->dims[in->rank - 1];
    p->outer = (int32_t)(in->elements / (uint32_t)p->depth);
    if (p->depth > 65536) { /* the int32 sum of exps would overflow */
        return pe_fail(s, HIL_ERR_LIMIT, op_index, op->inputs[0], p->depth);
    }
    /* Scale the input difference so that [-65535, 0] covers [-10, 0]. */
    const double rescale = (double)in->scale * (double)o->beta / (10.0 / 65535.0);
    int left_shift = 0;
    if (!pe_quantize_multiplier(rescale, &p->input_multiplier, &left_shift)) {
        return pe_fail(s, HIL_ERR_BAD_QUANTIZATION, op_index, op->inputs[0], 0);
    }
    p->input_left_shift = left_shift;
    int16_t *luts = (int16_t *)(void *)pe_persist_i32(s, PE_SOFTMAX16_PERSIST_BYTES / 4u);
    if (luts == NULL) {
        return pe_fail(s, HIL_ERR_ARENA_TOO_SMALL, op_index, -1, 0);
    }
    const float range = (float)(32767 - -32768);
    /* exp on [-10, 0] (exp(-10) is negligible to the sum); 1/(1+x) on [0, 1]. */
    pe_lut16_populate(10.0f / range, 32767, 2.0f / range, 0, pe_lut_exp, luts);
    pe_lut16_populate(1.0f / range, -32768, 2.0f / range, 0, pe_lut_one_over_one_plus_x, luts + PE_LUT16_SIZE);
    p->exp_lut = luts;
    p->one_over_one_plus_x_lut = luts + PE_LUT16_SIZE;
    return HIL_OK;
}

/* LUTLookup(int16_t, lut): 9 bits of index, 7 bits of linear interpolation. */
static inline int16_t pe_lut16_lookup(int16_t value, const int16_t *lut)
{
    const uint16_t index = (uint16_t)(256 + (value >> 7));
    const int16_t offset = (int16_t)(value & 0x7f);
    const int16_t base = lut[index];
    const int16_t slope = (int16_t)(lut[index + 1] - lut[index]);
    const int delta = (slope * offset + 64) >> 7;
    return (int16_t)(base + delta);
}

void pe_softmax16_eval(const pe_state *s, const pe_op *op)
{
    const pe_softmax16_params *p = &op->p.i16.softmax;
    const int16_t *input_data = (const int16_t *)(const void *)pe_in(s, op, 0)->data;
    int16_t *output_data = (int16_t *)(void *)pe_out(s, op)->data;

    for (int32_t i = 0; i < p->outer; ++i) {
        const int16_t *row = input_data + i * p->depth;
        int16_t *exp_q015 = output_data + i * p->depth; /* the exps are cached in the output */
        int32_t max_in_row = -32768;
        for (int32_t c = 0; c < p->depth; ++c) {
            max_in_row = row[c] > max_in_row ? row[c] : max_in_row;
        }
        int32_t sum_of_exps = 0; /* Q16.15 */
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t scaled = pe_mbqm((int32_t)row[c] - max_in_row, p->input_multiplier, p->input_left_shift);
            exp_q015[c] = pe_lut16_lookup((int16_t)pe_clamp(pe_wrap_add(scaled, 32767), -32768, 32767), p->exp_lut);
            sum_of_exps += exp_q015[c];
        }
        /* 1/sum: the row maximum contributes ~exp(0), so 2^15 <= sum < 2^31 and the shifts below
         * stay in range. */
        const int headroom_plus_one = pe_clz32((uint32_t)sum_of_exps);
        const int32_t shifted_sum = (int32_t)((((int64_t)sum_of_exps << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
        const int32_t sym_shifted_sum = shifted_sum - ((1 << 15) + (1 << 16));
        const int16_t reciprocal_q015 =
            pe_lut16_lookup((int16_t)pe_clamp(sym_shifted_sum, -32768, 32767), p->one_over_one_plus_x_lut);
        const int right_shift = 31 - headroom_plus_one;
        const int64_t round = (int64_t)1 << (right_shift - 1);
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t result = (int32_t)(((int64_t)exp_q015[c] * reciprocal_q015 + round) >> right_shift);
            exp_q015[c] = (int16_t)pe_clamp(result, 0, 32767);
        }
    }
}
