/* Shared prepare steps of CONV_2D and DEPTHWISE_CONV_2D (TFLite's
 * PopulateConvolutionQuantizationParams). */
#ifndef PE_CONV_UTIL_H
#define PE_CONV_UTIL_H

#include "pe_internal.h"

/* Per-channel multipliers for `channels` output channels, filter scales broadcast when the
 * filter is per-tensor. Fills p->multiplier / p->shift from the persistent region. */
hil_status pe_conv_quant_params(pe_state *s, int op_index, const pe_tensor *input,
                                const pe_tensor *filter, int filter_index, const pe_tensor *output,
                                int32_t channels, int32_t quantized_dim, int32_t **multiplier,
                                int32_t **shift);

/* Input/filter/bias/output presence, types and quantization. */
hil_status pe_conv_check_tensors(pe_state *s, int op_index, int32_t bias_elements);

/* The optimized CONV_2D of conv_fast.c (one group): its scratch bytes and its eval. */
uint32_t pe_conv_fast_scratch_bytes(const pe_state *s, const pe_op *op);
void pe_conv_eval_fast(const pe_state *s, const pe_op *op);

/* The optimized FULLY_CONNECTED of fully_connected_fast.c (weights zero point 0). */
uint32_t pe_fully_connected_fast_scratch_bytes(const pe_fc_params *p);
void pe_fully_connected_eval_fast(const pe_state *s, const pe_op *op);

#endif /* PE_CONV_UTIL_H */
