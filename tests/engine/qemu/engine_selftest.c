/*
 * Bare-metal self-test of the cross-compiled portable engine on QEMU's mps2-an386 (Cortex-M4F).
 * Through semihosting it reads model.tflite and input.bin from QEMU's working directory, runs
 * one inference and writes output.bin, then exits QEMU with 0 (or 10 + the hil_status).
 * The engine objects are built with the firmware's flags, so this is the code that ships.
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

#define MODEL_CAP (256u * 1024u)
#define INPUT_CAP (64u * 1024u)
#define ARENA_CAP (512u * 1024u)

static _Alignas(16) uint8_t model_buf[MODEL_CAP];
static uint8_t input_buf[INPUT_CAP];
static _Alignas(16) uint8_t arena[ARENA_CAP];

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;

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

int main(void)
{
    const long model_len = read_file("model.tflite", model_buf, sizeof model_buf);
    const long input_len = read_file("input.bin", input_buf, sizeof input_buf);
    if (model_len < 0 || input_len < 0) {
        semihost(SYS_WRITE0, "engine_selftest: cannot read model.tflite / input.bin\n");
        return 2;
    }
    hil_engine_t engine;
    hil_status st = hil_engine_load(model_buf, (size_t)model_len, arena, sizeof arena, &engine);
    if (st != HIL_OK) {
        return 10 + (int)st;
    }
    size_t used = 0;
    for (int i = 0; i < hil_engine_input_count(&engine); ++i) {
        hil_tensor_info_t info;
        if (hil_engine_input_info(&engine, i, &info) != HIL_OK || used + info.bytes > (size_t)input_len ||
            hil_engine_set_input(&engine, i, input_buf + used, info.bytes) != HIL_OK) {
            return 3;
        }
        used += info.bytes;
    }
    st = hil_engine_invoke(&engine);
    if (st != HIL_OK) {
        return 10 + (int)st;
    }
    const int fd = sh_open("output.bin", 5 /* "wb" */);
    if (fd < 0) {
        return 4;
    }
    for (int i = 0; i < hil_engine_output_count(&engine); ++i) {
        hil_tensor_info_t info;
        if (hil_engine_output_info(&engine, i, &info) != HIL_OK) {
            return 5;
        }
        const uint32_t args[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)hil_engine_output_data(&engine, i),
                                  info.bytes};
        if (semihost(SYS_WRITE, args) != 0) {
            return 6;
        }
    }
    const uint32_t close_args[1] = {(uint32_t)fd};
    semihost(SYS_CLOSE, close_args);
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
