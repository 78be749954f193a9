/* Sharded checkpoints: the input is model.safetensors.index.json, next to two
 * valid shards (a-00001.safetensors holds "x" and "y", b-00002.safetensors
 * holds "z"); am_st_open on the directory. An index may list fewer shards
 * than the directory holds (unlisted shards are not opened), so an accepted
 * index yields exactly the tensors of its weight_map, each in the shard the
 * map names. */
#include <jansson.h>

#include "fuzz_common.h"
#include "model/safetensors.h"

static void shard(const char *name, const char *header, size_t data_len) {
    size_t hl = strlen(header);
    unsigned char *buf = calloc(1, 8 + hl + data_len);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    memcpy(buf + 8, header, hl);
    fuzz_write(name, buf, 8 + hl + data_len);
    free(buf);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_scratch("idx");
    shard("a-00001.safetensors",
          "{\"x\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
          "\"y\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[16,24]}}",
          24);
    shard("b-00002.safetensors", "{\"z\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]}}", 6);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_write("model.safetensors.index.json", data, size);
    am_safetensors st;
    am_err e = {0};
    if (am_st_open(&st, fuzz_dir, &e) == 0) {
        for (int i = 0; i < st.ntensors; i++) fuzz_touch(st.tensors[i].data, st.tensors[i].nbytes);
        /* accepted: the index is valid JSON whose weight_map lists exactly the loaded tensors */
        json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
        json_t *wm = root ? json_object_get(root, "weight_map") : NULL;
        if (!wm || st.ntensors < 1 || st.ntensors > 3 || (size_t)st.ntensors != json_object_size(wm)) abort();
        const char *key;
        json_t *val;
        json_object_foreach(wm, key, val) {
            const am_tensor *t = am_st_find(&st, key);
            const char *file = t ? strrchr(st.files[t->file].path, '/') : NULL;
            if (!t || !file || strcmp(file + 1, json_string_value(val)) != 0) abort();
            int in_a = !strcmp(key, "x") || !strcmp(key, "y");
            if (!(in_a ? !strcmp(file + 1, "a-00001.safetensors") : !strcmp(key, "z"))) abort();
        }
        json_decref(root);
        am_st_close(&st);
    } else if (!e.msg[0]) {
        abort();
    }
    return 0;
}
