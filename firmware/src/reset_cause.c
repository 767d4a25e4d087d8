/* Reset cause, with a RAM marker for boards whose reset flags are unreadable (QEMU). */
#include <stdint.h>

#include "hil/board.h"
#include "hil/info.h"

/* Linker-placed words past the last section (cortex-m/sections.ld): startup leaves them alone,
 * and on a real chip SRAM keeps them across a system reset. Two words so power-on noise
 * cannot pass for the marker. */
extern volatile uint32_t hil_noinit[2];

#define MARK_SOFTWARE 0x5EB007EDu

const char *hil_reset_cause_take(void)
{
    const int software = hil_noinit[0] == MARK_SOFTWARE && hil_noinit[1] == ~MARK_SOFTWARE;
    hil_noinit[0] = 0u;
    hil_noinit[1] = 0u;
    const char *cause = board_reset_cause();
    if (cause != NULL) {
        return cause;
    }
    return software ? "software" : "power-on";
}

void hil_reset_cause_mark_software(void)
{
    hil_noinit[0] = MARK_SOFTWARE;
    hil_noinit[1] = ~MARK_SOFTWARE;
}
