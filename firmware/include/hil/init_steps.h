/* Set-up as a list of steps run in order, each checked (board_init's shape on every board). */
#ifndef HIL_INIT_STEPS_H
#define HIL_INIT_STEPS_H

#include <stddef.h>

typedef int (*hil_init_step_t)(void);

/* Runs steps[0..n) until one fails. Returns 0, or -(i + 1) for the first step i that failed. */
static inline int hil_init_steps(const hil_init_step_t *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (steps[i]() != 0) {
            return -(int)(i + 1u);
        }
    }
    return 0;
}

#endif /* HIL_INIT_STEPS_H */
