/*
 * The memory planner, as TFLM's GreedyMemoryPlanner: every activation tensor (not constant,
 * written by an op or a graph input), largest first, goes to the lowest 16-byte aligned offset
 * that does not collide with an already placed tensor alive at the same time (lifetimes are
 * [first_op, last_op] from the loader). The ops' shared scratch region follows the
 * activations. Offsets are relative to pe_state.activations; the loader turns them into
 * pointers once it knows the arena holds them.
 */
#include "pe_internal.h"

uint32_t pe_align_up(uint32_t x)
{
    return (x + (PE_ALIGN - 1u)) & ~(PE_ALIGN - 1u);
}

static int pe_needs_plan(const pe_tensor *t)
{
    return !t->is_const && t->first_op != PE_UNDEFINED_OP;
}

static int pe_lifetimes_overlap(const pe_tensor *a, const pe_tensor *b)
{
    return !(a->last_op < b->first_op || b->last_op < a->first_op);
}

uint32_t pe_plan(pe_state *s)
{
    uint32_t high = 0;
    for (;;) {
        int best = -1;
        for (uint32_t i = 0; i < s->n_tensors; ++i) {
            const pe_tensor *t = &s->tensors[i];
            if (pe_needs_plan(t) && !t->placed && (best < 0 || t->bytes > s->tensors[best].bytes)) {
                best = (int)i;
            }
        }
        if (best < 0) {
            break;
        }
        pe_tensor *t = &s->tensors[best];
        uint32_t offset = 0;
        int moved = 1;
        while (moved) {
            moved = 0;
            for (uint32_t j = 0; j < s->n_tensors; ++j) {
                const pe_tensor *other = &s->tensors[j];
                if (!other->placed || !pe_lifetimes_overlap(t, other)) {
                    continue;
                }
                if (offset < other->offset + other->bytes && other->offset < offset + t->bytes) {
                    offset = pe_align_up(other->offset + other->bytes);
                    moved = 1;
                }
            }
        }
        t->offset = offset;
        t->placed = 1;
        if (pe_align_up(offset + t->bytes) > high) {
            high = pe_align_up(offset + t->bytes);
        }
    }
    return high + pe_align_up(s->scratch_bytes);
}
