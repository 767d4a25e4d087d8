#include "fb_reader.h"

#include <string.h>

float fb_ld_f32(const uint8_t *p)
{
    const uint32_t bits = hil_le_get_u32(p);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

void fb_init(fb_ctx *ctx, const uint8_t *buf, uint32_t len)
{
    ctx->buf = buf;
    ctx->len = len;
    ctx->status = HIL_OK;
    ctx->bad_at = 0;
}

int fb_fail(fb_ctx *ctx, hil_status status, uint32_t at)
{
    if (ctx->status == HIL_OK) {
        ctx->status = status;
        ctx->bad_at = at;
    }
    return 0;
}

/* True when [pos, pos + size) lies inside the buffer. */
static int fb_in_bounds(const fb_ctx *ctx, uint32_t pos, uint32_t size)
{
    return pos <= ctx->len && size <= ctx->len - pos;
}

int fb_table_at(fb_ctx *ctx, uint32_t pos, fb_table *table)
{
    if (ctx->status != HIL_OK) {
        return 0;
    }
    if (pos < 4 || !fb_in_bounds(ctx, pos, 4)) {
        return fb_fail(ctx, HIL_ERR_BAD_OFFSET, pos);
    }
    const int32_t soffset = hil_le_get_i32(ctx->buf + pos);
    const int64_t vt = (int64_t)pos - (int64_t)soffset;
    if (vt < 0 || vt > (int64_t)ctx->len || !fb_in_bounds(ctx, (uint32_t)vt, 4)) {
        return fb_fail(ctx, HIL_ERR_BAD_OFFSET, pos);
    }
    table->pos = pos;
    table->vt = (uint32_t)vt;
    table->vt_size = hil_le_get_u16(ctx->buf + table->vt);
    table->tbl_size = hil_le_get_u16(ctx->buf + table->vt + 2);
    if (table->vt_size < 4 || (table->vt_size & 1u) != 0 ||
        !fb_in_bounds(ctx, table->vt, table->vt_size)) {
        return fb_fail(ctx, HIL_ERR_BAD_OFFSET, table->vt);
    }
    if (table->tbl_size < 4 || !fb_in_bounds(ctx, pos, table->tbl_size)) {
        return fb_fail(ctx, HIL_ERR_BAD_OFFSET, pos);
    }
    return 1;
}

int fb_root(fb_ctx *ctx, fb_table *root)
{
    if (ctx->len < 8) {
        return fb_fail(ctx, HIL_ERR_TRUNCATED, 0);
    }
    if (memcmp(ctx->buf + 4, "TFL3", 4) != 0) {
        return fb_fail(ctx, HIL_ERR_BAD_IDENTIFIER, 4);
    }
    const uint32_t root_pos = hil_le_get_u32(ctx->buf);
    if (root_pos >= ctx->len) {
        return fb_fail(ctx, HIL_ERR_TRUNCATED, 0);
    }
    return fb_table_at(ctx, root_pos, root);
}

int fb_present(const fb_table *t, unsigned slot)
{
    const uint32_t voff = 4u + 2u * slot;
    return voff + 2u <= t->vt_size;
}

/* Absolute position of a field of `size` bytes, 0 when absent or invalid. */
static uint32_t fb_field(fb_ctx *ctx, const fb_table *t, unsigned slot, uint32_t size)
{
    if (ctx->status != HIL_OK || !fb_present(t, slot)) {
        return 0;
    }
    const uint16_t off = hil_le_get_u16(ctx->buf + t->vt + 4u + 2u * slot);
    if (off == 0) {
        return 0;
    }
    if ((uint32_t)off + size > t->tbl_size) {
        fb_fail(ctx, HIL_ERR_BAD_OFFSET, t->pos);
        return 0;
    }
    return t->pos + off;
}

uint8_t fb_u8(fb_ctx *ctx, const fb_table *t, unsigned slot, uint8_t def)
{
    const uint32_t at = fb_field(ctx, t, slot, 1);
    return at ? ctx->buf[at] : def;
}

int8_t fb_i8(fb_ctx *ctx, const fb_table *t, unsigned slot, int8_t def)
{
    const uint32_t at = fb_field(ctx, t, slot, 1);
    return at ? (int8_t)ctx->buf[at] : def;
}

uint32_t fb_u32(fb_ctx *ctx, const fb_table *t, unsigned slot, uint32_t def)
{
    const uint32_t at = fb_field(ctx, t, slot, 4);
    return at ? hil_le_get_u32(ctx->buf + at) : def;
}

int32_t fb_i32(fb_ctx *ctx, const fb_table *t, unsigned slot, int32_t def)
{
    return (int32_t)fb_u32(ctx, t, slot, (uint32_t)def);
}

float fb_f32(fb_ctx *ctx, const fb_table *t, unsigned slot, float def)
{
    const uint32_t at = fb_field(ctx, t, slot, 4);
    return at ? fb_ld_f32(ctx->buf + at) : def;
}

/* Follow a uoffset field; 0 when absent or invalid. */
static uint32_t fb_follow(fb_ctx *ctx, const fb_table *t, unsigned slot)
{
    const uint32_t at = fb_field(ctx, t, slot, 4);
    if (at == 0) {
        return 0;
    }
    const uint32_t rel = hil_le_get_u32(ctx->buf + at);
    if (rel == 0 || rel > ctx->len - at) {
        fb_fail(ctx, HIL_ERR_BAD_OFFSET, at);
        return 0;
    }
    return at + rel;
}

int fb_subtable(fb_ctx *ctx, const fb_table *t, unsigned slot, fb_table *out)
{
    const uint32_t target = fb_follow(ctx, t, slot);
    if (target == 0) {
        return 0;
    }
    return fb_table_at(ctx, target, out);
}

int fb_vector(fb_ctx *ctx, const fb_table *t, unsigned slot, uint32_t elem_size, fb_vec *out)
{
    out->pos = 0;
    out->count = 0;
    const uint32_t target = fb_follow(ctx, t, slot);
    if (target == 0) {
        return 0;
    }
    if (!fb_in_bounds(ctx, target, 4)) {
        return fb_fail(ctx, HIL_ERR_BAD_OFFSET, target);
    }
    const uint32_t count = hil_le_get_u32(ctx->buf + target);
    const uint32_t room = ctx->len - (target + 4u);
    if (elem_size != 0 && count > room / elem_size) {
        return fb_fail(ctx, HIL_ERR_BAD_OFFSET, target);
    }
    out->pos = target + 4u;
    out->count = count;
    return 1;
}

int fb_vec_table(fb_ctx *ctx, const fb_vec *v, uint32_t index, fb_table *out)
{
    if (ctx->status != HIL_OK) {
        return 0;
    }
    if (index >= v->count) {
        return fb_fail(ctx, HIL_ERR_BAD_OFFSET, v->pos);
    }
    const uint32_t at = v->pos + 4u * index;
    const uint32_t rel = hil_le_get_u32(ctx->buf + at);
    if (rel == 0 || rel > ctx->len - at) {
        return fb_fail(ctx, HIL_ERR_BAD_OFFSET, at);
    }
    return fb_table_at(ctx, at + rel, out);
}

int32_t fb_vec_i32(const fb_ctx *ctx, const fb_vec *v, uint32_t index)
{
    return hil_le_get_i32(ctx->buf + v->pos + 4u * index);
}

int64_t fb_vec_i64(const fb_ctx *ctx, const fb_vec *v, uint32_t index)
{
    return hil_le_get_i64(ctx->buf + v->pos + 8u * index);
}

float fb_vec_f32(const fb_ctx *ctx, const fb_vec *v, uint32_t index)
{
    return fb_ld_f32(ctx->buf + v->pos + 4u * index);
}
