/*
 * The semihosting driver of an engine on QEMU: linked with either engine behind hil/engine.h
 * (portable, or the tflm adapter and the user's TFLM library), it reads model.tflite and
 * input.bin from QEMU's working directory, loads the model, sets the inputs, runs one
 * inference and writes every output, one after the other, to output.bin. Exit 0, or 10 + the
 * hil_status of a failed load or invoke.
 *
 * Two builds of it (tests/support/engine_support/qemu_selftest.py), both with the firmware's
 * flags for the engine (engine.mk's print-engine-flags):
 *   - the self-test of tests/engine/ on mps2-an386 (tests/engine/qemu/mps2_an386.ld);
 *   - the kernel benchmark (benchmarks/bench_kernels.py) on netduinoplus2 with
 *     -DHIL_DRIVER_TIMED=1: one warm-up inference, then one more timed with the STM32F405's
 *     TIM2 (QEMU clocks it at 1 GHz of virtual time, so under -icount shift=0 one count is one
 *     instruction, as the firmware's board_cost_counter), its count written to cost.txt.
 * HIL_DRIVER_MODEL_CAP, _INPUT_CAP and _ARENA_CAP size the buffers (the defaults fit
 * mps2-an386's 4 MiB of RAM; the benchmark passes sizes that fit the STM32F405's 128 KiB).
 */
#include <stddef.h>
#include <stdint.h>

#include "hil/engine.h"

#ifndef HIL_DRIVER_TIMED
#define HIL_DRIVER_TIMED 0
#endif
#ifndef HIL_DRIVER_MODEL_CAP
#define HIL_DRIVER_MODEL_CAP (256u * 1024u)
#endif
#ifndef HIL_DRIVER_INPUT_CAP
#define HIL_DRIVER_INPUT_CAP (64u * 1024u)
#endif
#ifndef HIL_DRIVER_ARENA_CAP
#define HIL_DRIVER_ARENA_CAP (512u * 1024u)
#endif

#define SYS_OPEN 0x01
#define SYS_CLOSE 0x02
#define SYS_WRITE0 0x04
#define SYS_WRITE 0x05
#define SYS_READ 0x06
#define SYS_FLEN 0x0C
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

#define TIM2_BASE 0x40000000u
#define TIM_REG(off) (*(volatile uint32_t *)(TIM2_BASE + (off)))

static _Alignas(16) uint8_t model_buf[HIL_DRIVER_MODEL_CAP];
static uint8_t input_buf[HIL_DRIVER_INPUT_CAP];
static _Alignas(16) uint8_t arena[HIL_DRIVER_ARENA_CAP];

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);

void reset_handler(void);
int main(void);

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static void sh_exit(int code)
{
    const uint32_t args[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
    semihost(SYS_EXIT_EXTENDED, args);
    for (;;) {
    }
}

static size_t cstrlen(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0') {
        ++n;
    }
    return n;
}

static int sh_open(const char *name, int mode)
{
    const uint32_t args[3] = {(uint32_t)(uintptr_t)name, (uint32_t)mode, (uint32_t)cstrlen(name)};
    return semihost(SYS_OPEN, args);
}

static void sh_close(int fd)
{
    const uint32_t args[1] = {(uint32_t)fd};
    semihost(SYS_CLOSE, args);
}

static long read_file(const char *name, uint8_t *buf, size_t cap)
{
    const int fd = sh_open(name, 1 /* "rb" */);
    if (fd < 0) {
        return -1;
    }
    const uint32_t flen_args[1] = {(uint32_t)fd};
    const int len = semihost(SYS_FLEN, flen_args);
    if (len < 0 || (size_t)len > cap) {
        sh_close(fd);
        return -1;
    }
    const uint32_t args[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)len};
    const int missing = semihost(SYS_READ, args);
    sh_close(fd);
    return missing == 0 ? len : -1;
}

/* SYS_WRITE of len bytes to an open file; 0 when all were written. */
static int sh_write(int fd, const void *data, uint32_t len)
{
    const uint32_t args[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)data, len};
    return semihost(SYS_WRITE, args) == 0 ? 0 : -1;
}

/* Inputs again before every inference: the planner may reuse an input's bytes for a later
 * activation once its last reader ran (both engines do). */
static int set_inputs(hil_engine_t *engine, size_t input_len)
{
    size_t used = 0;
    for (int i = 0; i < hil_engine_input_count(engine); ++i) {
        hil_tensor_info_t info;
        if (hil_engine_input_info(engine, i, &info) != HIL_OK || used + info.bytes > input_len ||
            hil_engine_set_input(engine, i, input_buf + used, info.bytes) != HIL_OK) {
            return -1;
        }
        used += info.bytes;
    }
    return 0;
}

static int write_outputs(const hil_engine_t *engine)
{
    const int fd = sh_open("output.bin", 5 /* "wb" */);
    if (fd < 0) {
        return -1;
    }
    int failed = 0;
    for (int i = 0; i < hil_engine_output_count(engine) && !failed; ++i) {
        hil_tensor_info_t info;
        failed = hil_engine_output_info(engine, i, &info) != HIL_OK ||
                 sh_write(fd, hil_engine_output_data(engine, i), info.bytes) != 0;
    }
    sh_close(fd);
    return failed ? -1 : 0;
}

#if HIL_DRIVER_TIMED
static void timer_start(void)
{
    TIM_REG(0x28) = 0u;          /* PSC */
    TIM_REG(0x2C) = 0xFFFFFFFFu; /* ARR */
    TIM_REG(0x14) = 1u;          /* EGR.UG: load PSC now */
    TIM_REG(0x00) = 1u;          /* CR1.CEN */
}

/* A warm-up inference, the inputs again, then one inference timed with interrupts off; its
 * count goes to cost.txt as "<count>\n". */
static int timed_invoke(hil_engine_t *engine, size_t input_len)
{
    hil_status st = hil_engine_invoke(engine);
    if (st != HIL_OK) {
        return 10 + (int)st;
    }
    if (set_inputs(engine, input_len) != 0) {
        return 3;
    }
    __asm__ volatile("cpsid i" ::: "memory");
    const uint32_t start = TIM_REG(0x24);
    st = hil_engine_invoke(engine);
    const uint32_t cost = TIM_REG(0x24) - start;
    __asm__ volatile("cpsie i" ::: "memory");
    if (st != HIL_OK) {
        return 10 + (int)st;
    }
    char text[12];
    int n = 11;
    text[n] = '\n';
    uint32_t v = cost;
    do {
        text[--n] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    const int fd = sh_open("cost.txt", 5 /* "wb" */);
    if (fd < 0) {
        return 4;
    }
    const int failed = sh_write(fd, text + n, (uint32_t)(12 - n));
    sh_close(fd);
    return failed ? 4 : 0;
}
#endif

int main(void)
{
#if HIL_DRIVER_TIMED
    timer_start();
#endif
    const long model_len = read_file("model.tflite", model_buf, sizeof model_buf);
    const long input_len = read_file("input.bin", input_buf, sizeof input_buf);
    if (model_len < 0 || input_len < 0) {
        semihost(SYS_WRITE0, "engine_selftest: cannot read model.tflite / input.bin\n");
        return 2;
    }
    hil_engine_t engine;
    const hil_status st = hil_engine_load(model_buf, (size_t)model_len, arena, sizeof arena, &engine);
    if (st != HIL_OK) {
        return 10 + (int)st;
    }
    if (set_inputs(&engine, (size_t)input_len) != 0) {
        return 3;
    }
#if HIL_DRIVER_TIMED
    const int timed = timed_invoke(&engine, (size_t)input_len);
    if (timed != 0) {
        return timed;
    }
#else
    const hil_status invoked = hil_engine_invoke(&engine);
    if (invoked != HIL_OK) {
        return 10 + (int)invoked;
    }
#endif
    return write_outputs(&engine) == 0 ? 0 : 5;
}

void reset_handler(void)
{
    /* FPU on (CP10, CP11 full access) before any float instruction. */
    volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
    *cpacr |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    uint32_t *src = &__data_load;
    for (uint32_t *dst = &__data_start; dst < &__data_end;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &__bss_start; dst < &__bss_end;) {
        *dst++ = 0;
    }
    /* static constructors (the tflm adapter is C++) */
    for (void (**f)(void) = __init_array_start; f < __init_array_end; ++f) {
        (*f)();
    }
    sh_exit(main());
}

static void fault_handler(void)
{
    semihost(SYS_WRITE0, "engine_selftest: fault\n");
    sh_exit(99);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)&__stack_top, reset_handler, fault_handler, fault_handler,
    fault_handler, fault_handler, fault_handler, 0, 0, 0, 0, fault_handler, fault_handler, 0,
    fault_handler, fault_handler,
};
