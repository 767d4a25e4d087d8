/* A hil_sink_fn that appends to a fixed buffer (buffer forms of the encoders). Private to link/. */
#ifndef HIL_LINK_MEMSINK_H
#define HIL_LINK_MEMSINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    uint8_t *out;
    size_t cap;
    size_t len;
    bool overflow; /* sticky: set once any write did not fit */
} hil_memsink_t;

static inline void hil_memsink_write(void *context, const uint8_t *data, size_t len)
{
    hil_memsink_t *mem = context;
    if (mem->overflow || len > mem->cap - mem->len) {
        mem->overflow = true;
        return;
    }
    memcpy(mem->out + mem->len, data, len);
    mem->len += len;
}

#endif /* HIL_LINK_MEMSINK_H */
