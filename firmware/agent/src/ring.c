/* SPSC byte ring (see hil/ring.h). Also built for the host tests. */
#include "hil/ring.h"

bool hil_ring_init(hil_ring_t *ring, uint8_t *buf, size_t size)
{
    if (buf == NULL || size < 2u || size > 0x80000000u || (size & (size - 1u)) != 0u) {
        return false;
    }
    ring->buf = buf;
    ring->mask = (uint32_t)(size - 1u);
    atomic_store_explicit(&ring->head, 0u, memory_order_relaxed);
    atomic_store_explicit(&ring->tail, 0u, memory_order_relaxed);
    atomic_store_explicit(&ring->dropped, 0u, memory_order_relaxed);
    return true;
}

size_t hil_ring_capacity(const hil_ring_t *ring)
{
    return (size_t)ring->mask + 1u;
}

bool hil_ring_push(hil_ring_t *ring, uint8_t byte)
{
    const uint32_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    const uint32_t tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
    if (head - tail > ring->mask) {
        /* only the producer writes dropped, so load+store needs no read-modify-write */
        const uint32_t dropped = atomic_load_explicit(&ring->dropped, memory_order_relaxed);
        atomic_store_explicit(&ring->dropped, dropped + 1u, memory_order_relaxed);
        return false;
    }
    ring->buf[head & ring->mask] = byte;
    atomic_store_explicit(&ring->head, head + 1u, memory_order_release);
    return true;
}

bool hil_ring_pop(hil_ring_t *ring, uint8_t *byte)
{
    const uint32_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    const uint32_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
    if (head == tail) {
        return false;
    }
    *byte = ring->buf[tail & ring->mask];
    atomic_store_explicit(&ring->tail, tail + 1u, memory_order_release);
    return true;
}

size_t hil_ring_read(hil_ring_t *ring, uint8_t *dst, size_t cap)
{
    uint32_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    const uint32_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
    size_t copied = 0;
    while (tail != head && copied < cap) {
        dst[copied++] = ring->buf[tail & ring->mask];
        tail++;
    }
    atomic_store_explicit(&ring->tail, tail, memory_order_release);
    return copied;
}

size_t hil_ring_count(const hil_ring_t *ring)
{
    const uint32_t tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
    const uint32_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
    return (size_t)(head - tail);
}

bool hil_ring_is_empty(const hil_ring_t *ring)
{
    return hil_ring_count(ring) == 0u;
}

uint32_t hil_ring_dropped(const hil_ring_t *ring)
{
    return atomic_load_explicit(&ring->dropped, memory_order_relaxed);
}
