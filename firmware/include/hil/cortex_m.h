/*
 * The few Cortex-M4 core registers and instructions the firmware uses (ARMv7-M ARM, B3).
 * Written out here instead of pulling in CMSIS: the project carries no vendor code.
 */
#ifndef HIL_CORTEX_M_H
#define HIL_CORTEX_M_H

#include <stdint.h>

#define HIL_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define HIL_REG8(addr) (*(volatile uint8_t *)(uintptr_t)(addr))

/* System control block */
#define SCB_ICSR HIL_REG32(0xE000ED04u)
#define SCB_VTOR HIL_REG32(0xE000ED08u)
#define SCB_AIRCR HIL_REG32(0xE000ED0Cu)
#define SCB_SHCSR HIL_REG32(0xE000ED24u)
#define SCB_CFSR HIL_REG32(0xE000ED28u)
#define SCB_HFSR HIL_REG32(0xE000ED2Cu)
#define SCB_MMFAR HIL_REG32(0xE000ED34u)
#define SCB_BFAR HIL_REG32(0xE000ED38u)
#define SCB_CPACR HIL_REG32(0xE000ED88u)
#define SCB_AIRCR_SYSRESET 0x05FA0004u /* VECTKEY | SYSRESETREQ */
#define SCB_CPACR_CP10_CP11_FULL (0xFu << 20)
#define SCB_CFSR_UNDEFINSTR (1u << 16)

/* NVIC: external interrupt n */
#define NVIC_ISER(n) HIL_REG32(0xE000E100u + 4u * ((uint32_t)(n) >> 5))
#define NVIC_ICER(n) HIL_REG32(0xE000E180u + 4u * ((uint32_t)(n) >> 5))
#define NVIC_ICPR(n) HIL_REG32(0xE000E280u + 4u * ((uint32_t)(n) >> 5))
#define NVIC_IPR(n) HIL_REG8(0xE000E400u + (uint32_t)(n))
#define NVIC_BIT(n) (1u << ((uint32_t)(n) & 31u))

/* Debug: DWT cycle counter (real silicon only; QEMU does not model it) */
#define DEMCR HIL_REG32(0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL HIL_REG32(0xE0001000u)
#define DWT_CTRL_CYCCNTENA (1u << 0)
#define DWT_CYCCNT HIL_REG32(0xE0001004u)

static inline void hil_dsb(void) { __asm volatile("dsb 0xF" ::: "memory"); }
static inline void hil_isb(void) { __asm volatile("isb 0xF" ::: "memory"); }
static inline void hil_irq_disable(void) { __asm volatile("cpsid i" ::: "memory"); }
static inline void hil_irq_enable(void) { __asm volatile("cpsie i" ::: "memory"); }
static inline void hil_wfi(void) { __asm volatile("wfi" ::: "memory"); }

static inline void hil_nvic_enable(uint32_t irq, uint8_t priority)
{
    NVIC_IPR(irq) = priority; /* STM32F4 implements the top 4 bits */
    NVIC_ICPR(irq) = NVIC_BIT(irq);
    NVIC_ISER(irq) = NVIC_BIT(irq);
}

static inline void hil_nvic_disable(uint32_t irq)
{
    NVIC_ICER(irq) = NVIC_BIT(irq);
    hil_dsb();
    hil_isb();
}

/* Requests a system reset through AIRCR; does not return. */
__attribute__((noreturn)) void hil_system_reset(void);
/* Masks interrupts and sleeps for good (after a fault, or when set-up cannot continue). */
__attribute__((noreturn)) void hil_halt(void);

#endif /* HIL_CORTEX_M_H */
