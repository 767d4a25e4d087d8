/*
 * Single-producer / single-consumer byte ring, safe between one ISR (producer) and the main
 * loop (consumer) without masking interrupts: each side writes only its own index, and the
 * acquire/release pair orders the byte against the index that publishes it.
 */
#ifndef HIL_RING_H
#define HIL_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *buf;
    uint32_t mask;             /* size - 1; size is a power of two */
    _Atomic uint32_t head;     /* free-running, written by the producer only */
    _Atomic uint32_t tail;     /* free-running, written by the consumer only */
    _Atomic uint32_t dropped;  /* bytes the producer found no room for */
} hil_ring_t;

/* size must be a power of two, 2 .. 2^31; returns false otherwise. */
bool hil_ring_init(hil_ring_t *ring, uint8_t *buf, size_t size);
size_t hil_ring_capacity(const hil_ring_t *ring);
/* Producer side. Returns false (and counts a drop) when full: a full ring never overwrites. */
bool hil_ring_push(hil_ring_t *ring, uint8_t byte);
/* Consumer side. Returns false when empty. */
bool hil_ring_pop(hil_ring_t *ring, uint8_t *byte);
/* Consumer side: copies up to cap bytes, returns how many. */
size_t hil_ring_read(hil_ring_t *ring, uint8_t *dst, size_t cap);
/* Either side; a snapshot. */
size_t hil_ring_count(const hil_ring_t *ring);
bool hil_ring_is_empty(const hil_ring_t *ring);
uint32_t hil_ring_dropped(const hil_ring_t *ring);

#endif /* HIL_RING_H */
