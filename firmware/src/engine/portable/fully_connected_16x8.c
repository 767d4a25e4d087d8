/* FULLY_CONNECTED, 16x8: int16 input/output, int8 weights (per-tensor or per-channel), int64 or
 * int32 bias. Mirrors TFLM's fully_connected.cc for kTfLiteInt16 and
 * reference_integer_ops::FullyConnected / FullyConnectedPerChannel: per-tensor weights keep
 * their offset, per-channel ones do not; the accumulator is the bias type. */
#include "pe_conv_util.h"
#include "pe_int16.h"

hil_status pe_fully_connected16_prepare(pe_state *s, int op_index, const pe_options *o)
{
    pe_op *op = &s->ops[op_index];
    pe_fc_params *p = &op->p.fc;
    hil_status st;
    if (op->n_inputs < 2 || op->inputs[0] < 0 || op->inputs[1] < 0) {
        return pe_fail(s, HIL_ERR_BAD_MODEL, op_index, -1, op->n_inputs);
    }
    const pe_tensor *filter = &s->tensors[op->inputs[1]];
    const pe_tensor *out = &s->tensors[op->output];
    if ((st = pe_check_weighted_io(s, op_index, PE_TYPE_INT16)) != HIL_OK ||
        (st = pe_expect_rank(s, op_index, op->inputs[1], 2)) != HIL_OK ||
        (st = pe_fc_shape(s, op_index, o, p)) != HIL_OK) {
        return st;
    }
    p->filter_offset = -filter->zero_point;
    if ((st = pe_bias16(s, op_index, p->units, 1, o->quantized_bias_type, &p->wide_bias)) != HIL_OK ||
        (st = pe_fc_quant_params(s, op_index, p)) != HIL_OK) {
        return st;
    }
    if (p->wide_bias &&
        (st = pe_check_shift64(s, op_index, op->inputs[1], p->shift, p->per_channel ? p->units : 1)) != HIL_OK) {
        return st;
    }
    return pe_activation_range16(s, op_index, o->activation, out, &p->act_min, &p->act_max);
}

void pe_fully_connected16_eval(const pe_state *s, const pe_op *op)
{
    const pe_fc_params *p = &op->p.fc;
    const int16_t *input_data = (const int16_t *)(const void *)pe_in(s, op, 0)->data;
    const int8_t *filter_data = (const int8_t *)pe_in(s, op, 1)->data;
    const pe_tensor *bias = op->n_inputs > 2 ? pe_in(s, op, 2) : NULL;
    int16_t *output_data = (int16_t *)(void *)pe_out(s, op)->data;
    const int32_t filter_offset = p->per_channel ? 0 : p->filter_offset;

    for (int32_t b = 0; b < p->batches; ++b) {
        const int16_t *in_row = input_data + b * p->accum_depth;
        for (int32_t u = 0; u < p->units; ++u) {
            const int8_t *f_row = filter_data + u * p->accum_depth;
            const int ch = p->per_channel ? u : 0;
            int32_t scaled;
            if (p->wide_bias) {
                /* |(weight + offset) * input| < 2^23: 255 products add up exactly in int32. */
                int64_t acc = 0;
                for (int32_t d0 = 0; d0 < p->accum_depth; d0 += 255) {
                    const int32_t end = p->accum_depth - d0 < 255 ? p->accum_depth : d0 + 255;
                    int32_t part = 0;
                    for (int32_t d = d0; d < end; ++d) {
                        part += ((int32_t)f_row[d] + filter_offset) * in_row[d];
                    }
                    acc += part;
                }
                if (bias != NULL) {
                    acc = pe_wrap_add64(acc, hil_le_get_i64(bias->data + 8u * (uint32_t)u));
                }
                scaled = pe_mbqm64(acc, p->multiplier[ch], p->shift[ch]);
            } else {
                int32_t acc = 0;
                for (int32_t d = 0; d < p->accum_depth; ++d) {
                    acc = pe_wrap_add(acc, ((int32_t)f_row[d] + filter_offset) * in_row[d]);
                }
                if (bias != NULL) {
                    acc = pe_wrap_add(acc, hil_le_get_i32(bias->data + 4u * (uint32_t)u));
                }
                scaled = pe_mbqm(acc, p->multiplier[ch], p->shift[ch]);
            }
            output_data[b * p->units + u] = (int16_t)pe_clamp(scaled, p->act_min, p->act_max);
        }
    }
}
