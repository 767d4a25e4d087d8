/*
 * Little-endian fields of the wire protocol (docs/protocol.md): every multi-byte field on the
 * link is little-endian and may sit at any alignment in a frame, so it is read and written a
 * byte at a time. The one copy for the agent, its link codec and the ports.
 */
#ifndef HIL_LE_H
#define HIL_LE_H

#include <stdint.h>

static inline uint16_t hil_le_get_u16(const uint8_t *p)
{
    return (uint16_t)((uint32_t)p[0] | ((uint32_t)p[1] << 8));
}

static inline uint32_t hil_le_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline int32_t hil_le_get_i32(const uint8_t *p)
{
    return (int32_t)hil_le_get_u32(p);
}

static inline int64_t hil_le_get_i64(const uint8_t *p)
{
    return (int64_t)((uint64_t)hil_le_get_u32(p) | ((uint64_t)hil_le_get_u32(p + 4) << 32));
}

/* value is truncated to 16 bits */
static inline void hil_le_put_u16(uint8_t *p, uint32_t value)
{
    p[0] = (uint8_t)(value & 0xFFu);
    p[1] = (uint8_t)((value >> 8) & 0xFFu);
}

static inline void hil_le_put_u32(uint8_t *p, uint32_t value)
{
    p[0] = (uint8_t)(value & 0xFFu);
    p[1] = (uint8_t)((value >> 8) & 0xFFu);
    p[2] = (uint8_t)((value >> 16) & 0xFFu);
    p[3] = (uint8_t)(value >> 24);
}

#endif /* HIL_LE_H */
