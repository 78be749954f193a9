/* safetensors header parsing: the input is a whole .safetensors file, opened
 * with am_st_open. Every tensor it accepts must lie inside the mapping. */
#include "fuzz_common.h"
#include "model/safetensors.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_scratch("st");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[512];
    fuzz_write("x.safetensors", data, size);
    fuzz_path(path, sizeof path, "x.safetensors");
    am_safetensors st;
    am_err e = {0};
    if (am_st_open(&st, path, &e) == 0) {
        for (int i = 0; i < st.ntensors; i++) {
            const am_tensor *t = &st.tensors[i];
            const am_st_file *f = &st.files[t->file];
            const char *lo = (const char *)f->map + 8 + f->header_len, *hi = (const char *)f->map + f->size;
            size_t el = 1;
            for (int d = 0; d < t->ndim; d++) el *= (size_t)t->shape[d];
            if ((const char *)t->data < lo || (const char *)t->data + t->nbytes > hi ||
                el * am_dtype_size(t->dtype) != t->nbytes || am_st_find(&st, t->name) != t)
                abort();
            fuzz_touch(t->data, t->nbytes);
        }
        am_st_close(&st);
    } else if (!e.msg[0]) {
        abort(); /* a failure must say why */
    }
    return 0;
}
