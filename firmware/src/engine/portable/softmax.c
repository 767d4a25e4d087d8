/* SOFTMAX int8 -> int8: TFLite's LUT-free integer softmax (reference_ops::Softmax with
 * gemmlowp fixed point), prepared as TFLM's SoftmaxPrepare / CalculateSoftmaxParams do. */
#include "pe_internal.h"
#include "pe_fixedpoint.h"

enum { PE_SCALED_DIFF_INTEGER_BITS = 5, PE_ACCUMULATION_INTEGER_BITS = 12 };

hil_status pe_softmax_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    pe_softmax_params *p = &op->p.softmax;
    hil_status st;
    if ((st = pe_expect_softmax_io(s, op_index, PE_TYPE_INT8)) != HIL_OK) {
        return st;
    }
    const pe_tensor *in = &s->tensors[op->inputs[0]];
    const pe_tensor *out = &s->tensors[op->output];
    /* TFLM requires exactly this output quantization for int8. */
    if (out->zero_point != -128 || out->scale != 1.0f / 256) {
        return pe_fail(s, HIL_ERR_BAD_QUANTIZATION, op_index, op->output, out->zero_point);
    }
    /* PreprocessSoftmaxScaling, double-rounding build. */
    double real = (double)o->beta * (double)in->scale * (double)(1 << (31 - PE_SCALED_DIFF_INTEGER_BITS));
    if (real > (double)((1LL << 31) - 1)) {
        real = (double)((1LL << 31) - 1);
    }
    int left_shift = 0;
    if (!(real > 1.0) || !pe_quantize_multiplier(real, &p->input_multiplier, &left_shift) || left_shift < 0) {
        return pe_fail(s, HIL_ERR_BAD_QUANTIZATION, op_index, op->inputs[0], 0);
    }
    p->input_left_shift = left_shift;
    /* CalculateInputRadius(5, left_shift): floor(31 * 2^26 / 2^left_shift), exact in integers. */
    p->diff_min = -(int32_t)((((1LL << PE_SCALED_DIFF_INTEGER_BITS) - 1) << (31 - PE_SCALED_DIFF_INTEGER_BITS)) >> left_shift);
    p->depth = in->dims[in->rank - 1];
    p->outer = (int32_t)(in->elements / (uint32_t)p->depth);
    return HIL_OK;
}

/* gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl, Q0.31 in and out. */
static int32_t pe_exp_quarter_interval(int32_t a)
{
    const int32_t constant_term = 1895147668;     /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883;
    const int32_t x = pe_wrap_add(a, 1 << 28);   /* a + 1/8 */
    const int32_t x2 = pe_srdhm(x, x);
    const int32_t x3 = pe_srdhm(x2, x);
    const int32_t x4 = pe_srdhm(x2, x2);
    const int32_t x4_over_4 = pe_rdbypot(x4, 2);
    const int32_t poly = pe_rdbypot(pe_wrap_add(pe_srdhm(pe_wrap_add(x4_over_4, x3), constant_1_over_3), x2), 1);
    return pe_wrap_add(constant_term, pe_srdhm(constant_term, pe_wrap_add(x, poly)));
}

/* gemmlowp exp_on_negative_values for a Q5.26 input; result Q0.31. */
static int32_t pe_exp_on_negative_values(int32_t a)
{
    enum { FRACTIONAL_BITS = 31 - PE_SCALED_DIFF_INTEGER_BITS };
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308,
                                      39332535, 720401, 242};
    const int32_t one_quarter = 1 << (FRACTIONAL_BITS - 2);
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
    int32_t result = pe_exp_quarter_interval(pe_srmbypot(a_mod_quarter_minus_one_quarter, PE_SCALED_DIFF_INTEGER_BITS));
    const int32_t remainder = pe_wrap_sub(a_mod_quarter_minus_one_quarter, a);
    for (int e = -2; e <= 4; ++e) {
        if (remainder & (1 << (FRACTIONAL_BITS + e))) {
            result = pe_srdhm(result, barrel[e + 2]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1, Q0.31 in and out (Newton-Raphson in Q2.29). */
static int32_t pe_one_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int32_t x = pe_wrap_add(1515870810, pe_srdhm(half_denominator, -1010580540));
    for (int i = 0; i < 3; ++i) {
        const int32_t half_denominator_times_x = pe_srdhm(half_denominator, x);
        const int32_t one_minus = pe_wrap_sub(1 << 29, half_denominator_times_x);
        x = pe_wrap_add(x, pe_srmbypot(pe_srdhm(x, one_minus), 2));
    }
    return pe_srmbypot(x, 1);
}

void pe_softmax_eval(const pe_state *s, const pe_op *op)
{
    const pe_softmax_params *p = &op->p.softmax;
    const int8_t *input_data = (const int8_t *)pe_in(s, op, 0)->data;
    int8_t *output_data = (int8_t *)pe_out(s, op)->data;

    for (int32_t i = 0; i < p->outer; ++i) {
        const int8_t *row = input_data + i * p->depth;
        int8_t *out_row = output_data + i * p->depth;
        int32_t max_in_row = -128;
        for (int32_t c = 0; c < p->depth; ++c) {
            max_in_row = row[c] > max_in_row ? row[c] : max_in_row;
        }
        int32_t sum_of_exps = 0; /* Q12.19 */
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)row[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t rescaled = pe_mbqm_greater_than_one(diff, p->input_multiplier, p->input_left_shift);
                sum_of_exps = pe_wrap_add(sum_of_exps, pe_rdbypot(pe_exp_on_negative_values(rescaled),
                                                                  PE_ACCUMULATION_INTEGER_BITS));
            }
        }
        /* GetReciprocal(sum_of_exps, 12): the row maximum contributes exp(0), so sum > 0. */
        const int headroom_plus_one = pe_clz32((uint32_t)sum_of_exps);
        const int num_bits_over_unit = PE_ACCUMULATION_INTEGER_BITS - headroom_plus_one;
        const int32_t shifted_sum_minus_one =
            (int32_t)(((uint32_t)sum_of_exps << (headroom_plus_one & 31)) - (1u << 31));
        const int32_t shifted_scale = pe_one_over_one_plus_x(shifted_sum_minus_one);
        int exponent = num_bits_over_unit + 31 - 8;
        /* TFLite aborts outside [0, 31] (rows of thousands of equal maxima); saturate instead. */
        exponent = exponent < 0 ? 0 : (exponent > 31 ? 31 : exponent);
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)row[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t rescaled = pe_mbqm_greater_than_one(diff, p->input_multiplier, p->input_left_shift);
                const int32_t exp_in_0 = pe_exp_on_negative_values(rescaled);
                const int32_t unsat = pe_rdbypot(pe_srdhm(shifted_scale, exp_in_0), exponent);
                out_row[c] = (int8_t)pe_clamp(unsat - 128, -128, 127);
            } else {
                out_row[c] = -128;
            }
        }
    }
}
