/*
 * engine_run MODEL INPUT_FILE OUTPUT_FILE [ARENA_BYTES]
 * Loads MODEL with the portable engine, feeds the concatenated raw bytes of every input from
 * INPUT_FILE, invokes once and writes the concatenated raw outputs to OUTPUT_FILE. Prints the
 * status name and exits 2 when loading fails, so tests can run it under sanitizers.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hil/engine.h"

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    const long size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    unsigned char *buf = malloc((size_t)size + 1);
    if (buf != NULL && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static int run(const unsigned char *model, size_t model_len, const unsigned char *input,
               size_t input_len, unsigned char *arena, size_t arena_len, const char *out_path)
{
    hil_engine_t engine;
    hil_status st = hil_engine_load(model, model_len, arena, arena_len, &engine);
    if (st != HIL_OK) {
        printf("%s op=%d tensor=%d detail=%d\n", hil_status_name(st), (int)engine.error.op_index,
               (int)engine.error.tensor_index, (int)engine.error.detail);
        return 2;
    }
    size_t used = 0;
    for (int i = 0; i < hil_engine_input_count(&engine); ++i) {
        hil_tensor_info_t info;
        if (hil_engine_input_info(&engine, i, &info) != HIL_OK || used + info.bytes > input_len ||
            hil_engine_set_input(&engine, i, input + used, info.bytes) != HIL_OK) {
            fprintf(stderr, "input %d does not fit\n", i);
            return 65;
        }
        used += info.bytes;
    }
    st = hil_engine_invoke(&engine);
    if (st != HIL_OK) {
        printf("%s\n", hil_status_name(st));
        return 3;
    }
    FILE *out = fopen(out_path, "wb");
    if (out == NULL) {
        return 73;
    }
    for (int i = 0; i < hil_engine_output_count(&engine); ++i) {
        hil_tensor_info_t info;
        if (hil_engine_output_info(&engine, i, &info) != HIL_OK ||
            fwrite(hil_engine_output_data(&engine, i), 1, info.bytes, out) != info.bytes) {
            fclose(out);
            return 74;
        }
    }
    fclose(out);
    printf("OK arena_used=%u\n", (unsigned)hil_engine_arena_used(&engine));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL INPUT OUTPUT [ARENA_BYTES]\n", argv[0]);
        return 64;
    }
    size_t model_len = 0, input_len = 0;
    unsigned char *model = read_file(argv[1], &model_len);
    unsigned char *input = read_file(argv[2], &input_len);
    const size_t arena_len = argc > 4 ? (size_t)strtoul(argv[4], NULL, 0) : 1u << 20;
    unsigned char *arena = malloc(arena_len);
    int rc = 66;
    if (model != NULL && input != NULL && arena != NULL) {
        rc = run(model, model_len, input, input_len, arena, arena_len, argv[3]);
    } else {
        fprintf(stderr, "cannot read inputs\n");
    }
    free(arena);
    free(input);
    free(model);
    return rc;
}
