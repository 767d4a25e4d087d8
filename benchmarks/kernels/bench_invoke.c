/*
 * Instructions per inference of whichever engine it is linked with (portable or the tflm
 * adapter), on QEMU netduinoplus2 under -icount shift=0. Through semihosting it reads
 * model.tflite and input.bin, loads the model, runs one warm-up inference, then times one
 * more with TIM2 (QEMU clocks it at 1 GHz of virtual time, so under shift=0 one count is one
 * instruction, as the firmware's board_cost_counter), inputs set again before each, and
 * writes cost.txt ("<count>\n") and
 * output.bin. Exit 0, or 10 + the hil_status of a failed load/invoke.
 */
#include <stddef.h>
#include <stdint.h>

#include "hil/engine.h"

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

#define MODEL_CAP (24u * 1024u)
#define INPUT_CAP (4u * 1024u)
#define ARENA_CAP (88u * 1024u)

static _Alignas(16) uint8_t model_buf[MODEL_CAP];
static uint8_t input_buf[INPUT_CAP];
static _Alignas(16) uint8_t arena[ARENA_CAP];

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

static long read_file(const char *name, uint8_t *buf, size_t cap)
{
    const int fd = sh_open(name, 1 /* "rb" */);
    if (fd < 0) {
        return -1;
    }
    const uint32_t flen_args[1] = {(uint32_t)fd};
    const int len = semihost(SYS_FLEN, flen_args);
    if (len < 0 || (size_t)len > cap) {
        return -1;
    }
    const uint32_t args[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)len};
    const int missing = semihost(SYS_READ, args);
    semihost(SYS_CLOSE, flen_args);
    return missing == 0 ? len : -1;
}

static int write_file(const char *name, const void *data, uint32_t len)
{
    const int fd = sh_open(name, 5 /* "wb" */);
    if (fd < 0) {
        return -1;
    }
    const uint32_t args[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)data, len};
    const int missing = semihost(SYS_WRITE, args);
    const uint32_t close_args[1] = {(uint32_t)fd};
    semihost(SYS_CLOSE, close_args);
    return missing == 0 ? 0 : -1;
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

int main(void)
{
    TIM_REG(0x28) = 0u;          /* PSC */
    TIM_REG(0x2C) = 0xFFFFFFFFu; /* ARR */
    TIM_REG(0x14) = 1u;          /* EGR.UG: load PSC now */
    TIM_REG(0x00) = 1u;          /* CR1.CEN */
    const long model_len = read_file("model.tflite", model_buf, sizeof model_buf);
    const long input_len = read_file("input.bin", input_buf, sizeof input_buf);
    if (model_len < 0 || input_len < 0) {
        semihost(SYS_WRITE0, "bench_invoke: cannot read model.tflite / input.bin\n");
        return 2;
    }
    hil_engine_t engine;
    hil_status st = hil_engine_load(model_buf, (size_t)model_len, arena, sizeof arena, &engine);
    if (st != HIL_OK) {
        return 10 + (int)st;
    }
    if (set_inputs(&engine, (size_t)input_len) != 0) {
        return 3;
    }
    if ((st = hil_engine_invoke(&engine)) != HIL_OK) { /* warm-up */
        return 10 + (int)st;
    }
    if (set_inputs(&engine, (size_t)input_len) != 0) {
        return 3;
    }
    __asm__ volatile("cpsid i" ::: "memory");
    const uint32_t start = TIM_REG(0x24);
    st = hil_engine_invoke(&engine);
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
    if (write_file("cost.txt", text + n, (uint32_t)(12 - n)) != 0) {
        return 4;
    }
    for (int i = 0; i < hil_engine_output_count(&engine); ++i) {
        hil_tensor_info_t info;
        if (hil_engine_output_info(&engine, i, &info) != HIL_OK ||
            write_file(i == 0 ? "output.bin" : "output1.bin", hil_engine_output_data(&engine, i), info.bytes) != 0) {
            return 5;
        }
    }
    return 0;
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
    for (void (**f)(void) = __init_array_start; f < __init_array_end; ++f) {
        (*f)();
    }
    sh_exit(main());
}

static void fault_handler(void)
{
    semihost(SYS_WRITE0, "bench_invoke: fault\n");
    sh_exit(99);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)&__stack_top, reset_handler, fault_handler, fault_handler,
    fault_handler, fault_handler, fault_handler, 0, 0, 0, 0, fault_handler, fault_handler, 0,
    fault_handler, fault_handler,
};
