/*
 * A minimal, fully bounds-checked reader for the FlatBuffers wire format, enough to walk a
 * TFLite model. Every offset, vtable and vector is checked against the buffer before it is
 * dereferenced; the first failure is kept in the context (sticky) so callers can read many
 * fields and check once.
 */
#ifndef PE_FB_READER_H
#define PE_FB_READER_H

#include <stdint.h>

#include "hil/engine.h"
#include "hil/le.h" /* the little-endian field readers (firmware/agent/include/hil/le.h) */

typedef struct {
    const uint8_t *buf;
    uint32_t len;
    hil_status status;   /* first error, HIL_OK while none */
    uint32_t bad_at;     /* byte offset where the first error was found */
} fb_ctx;

typedef struct {
    uint32_t pos;        /* table start */
    uint32_t vt;         /* vtable start */
    uint16_t vt_size;
    uint16_t tbl_size;
} fb_table;

typedef struct {
    uint32_t pos;        /* first element */
    uint32_t count;
} fb_vec;

void fb_init(fb_ctx *ctx, const uint8_t *buf, uint32_t len);
int fb_fail(fb_ctx *ctx, hil_status status, uint32_t at);

/* Root table, after checking the size and the "TFL3" identifier. */
int fb_root(fb_ctx *ctx, fb_table *root);
int fb_table_at(fb_ctx *ctx, uint32_t pos, fb_table *table);

/* Scalars with their schema defaults when absent. */
uint8_t fb_u8(fb_ctx *ctx, const fb_table *t, unsigned slot, uint8_t def);
int8_t fb_i8(fb_ctx *ctx, const fb_table *t, unsigned slot, int8_t def);
int32_t fb_i32(fb_ctx *ctx, const fb_table *t, unsigned slot, int32_t def);
uint32_t fb_u32(fb_ctx *ctx, const fb_table *t, unsigned slot, uint32_t def);
float fb_f32(fb_ctx *ctx, const fb_table *t, unsigned slot, float def);
int fb_present(const fb_table *t, unsigned slot);

/* Sub-table / vector fields: return 1 when present and valid, 0 when absent or invalid. */
int fb_subtable(fb_ctx *ctx, const fb_table *t, unsigned slot, fb_table *out);
int fb_vector(fb_ctx *ctx, const fb_table *t, unsigned slot, uint32_t elem_size, fb_vec *out);
int fb_vec_table(fb_ctx *ctx, const fb_vec *v, uint32_t index, fb_table *out);

/* Elements of a vector already checked by fb_vector (index < count). */
int32_t fb_vec_i32(const fb_ctx *ctx, const fb_vec *v, uint32_t index);
int64_t fb_vec_i64(const fb_ctx *ctx, const fb_vec *v, uint32_t index);
float fb_vec_f32(const fb_ctx *ctx, const fb_vec *v, uint32_t index);

/* Little-endian loads that need no alignment. */
float fb_ld_f32(const uint8_t *p);

#endif /* PE_FB_READER_H */
