/* safetensors reader: valid files (padding, metadata, order, sharding) and
 * malformed ones, each refused with a specific message. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/safetensors.h"
#include "test_util.h"

static char dir[256];

/* Write a safetensors file: declared header length hl_decl (0 = real length),
 * header text padded with `pad` spaces, then ndata bytes with byte i = i*7+3. */
static void write_st(const char *name, const char *header, int pad, size_t ndata, unsigned long long hl_decl) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(2);
    }
    unsigned long long hl = hl_decl ? hl_decl : strlen(header) + (size_t)pad;
    for (int i = 0; i < 8; i++) fputc((int)((hl >> (8 * i)) & 0xff), f);
    fputs(header, f);
    for (int i = 0; i < pad; i++) fputc(' ', f);
    for (size_t i = 0; i < ndata; i++) fputc((int)((i * 7 + 3) & 0xff), f);
    fclose(f);
}

static void write_text(const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

/* Open `name` (inside dir) and expect failure with `want` in the message. */
static void expect_fail(const char *name, const char *want) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    am_safetensors st;
    am_err e = {0};
    int rc = am_st_open(&st, path, &e);
    CHECK(rc == -1, "%s: expected failure (%s), got success", name, want);
    if (rc == 0) {
        am_st_close(&st);
        return;
    }
    CHECK(strstr(e.msg, want) != NULL, "%s: message \"%s\" lacks \"%s\"", name, e.msg, want);
    CHECK(st.tensors == NULL && st.files == NULL, "%s: state not reset after failure", name);
}

/* Open `name` (inside dir) and expect failure with error code `code`. */
static void expect_code(const char *name, am_code code) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    am_safetensors st;
    am_err e = {0};
    int rc = am_st_open(&st, path, &e);
    CHECK(rc == -1, "%s: expected failure", name);
    if (rc == 0) {
        am_st_close(&st);
        return;
    }
    CHECK(e.code == code, "%s: code %d, want %d (%s)", name, (int)e.code, (int)code, e.msg);
}

static const char *VALID = "{\"__metadata__\":{\"format\":\"pt\"},"
                           "\"zeta.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                           "\"alpha.weight\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]},"
                           "\"mid.bias\":{\"dtype\":\"F16\",\"shape\":[1,1,2,3],\"data_offsets\":[32,44]}}";

static void test_valid(void) {
    write_st("valid.safetensors", VALID, 5, 44, 0); /* 5 spaces of padding */
    char path[512];
    snprintf(path, sizeof path, "%s/valid.safetensors", dir);
    am_safetensors st;
    am_err e = {0};
    int rc = am_st_open(&st, path, &e);
    CHECK(rc == 0, "valid: %s", e.msg);
    if (rc) return;
    CHECK(st.nfiles == 1 && st.ntensors == 3, "valid: %d files %d tensors", st.nfiles, st.ntensors);
    CHECK(st.files[0].header_len == strlen(VALID) + 5, "header_len %zu", st.files[0].header_len);
    CHECK(st.files[0].size == 8 + strlen(VALID) + 5 + 44, "size %zu", st.files[0].size);
    const char *order[] = {"alpha.weight", "mid.bias", "zeta.weight"};
    for (int i = 0; i < 3; i++) CHECK(!strcmp(st.tensors[i].name, order[i]), "order[%d] = %s", i, st.tensors[i].name);
    const am_tensor *z = am_st_find(&st, "zeta.weight"), *a = am_st_find(&st, "alpha.weight");
    const am_tensor *m = am_st_find(&st, "mid.bias");
    CHECK(z && a && m, "find failed");
    CHECK(am_st_find(&st, "missing") == NULL && am_st_find(&st, "aaa") == NULL && am_st_find(&st, "zzz") == NULL,
          "find of absent names");
    if (z && a && m) {
        CHECK(z->dtype == AM_F32 && z->ndim == 2 && z->shape[0] == 2 && z->shape[1] == 3 && z->nbytes == 24,
              "zeta meta");
        CHECK(a->dtype == AM_BF16 && a->ndim == 1 && a->shape[0] == 4 && a->nbytes == 8, "alpha meta");
        CHECK(m->dtype == AM_F16 && m->ndim == 4 && m->shape[3] == 3 && m->nbytes == 12, "mid meta");
        /* data pointers: byte k of the data area is k*7+3 */
        const unsigned char *pz = z->data, *pa = a->data, *pm = m->data;
        int ok = 1;
        for (int k = 0; k < 24; k++) ok &= pz[k] == (unsigned char)(k * 7 + 3);
        for (int k = 0; k < 8; k++) ok &= pa[k] == (unsigned char)((24 + k) * 7 + 3);
        for (int k = 0; k < 12; k++) ok &= pm[k] == (unsigned char)((32 + k) * 7 + 3);
        CHECK(ok, "tensor bytes differ from the file's data area");
        CHECK((const unsigned char *)z->data == (const unsigned char *)st.files[0].map + 8 + strlen(VALID) + 5,
              "data offset relative to the end of the header");
    }
    CHECK(am_dtype_size(AM_BF16) == 2 && am_dtype_size(AM_F16) == 2 && am_dtype_size(AM_F32) == 4, "dtype sizes");
    CHECK(!strcmp(am_dtype_name(AM_BF16), "BF16"), "dtype name");
    am_st_close(&st);

    /* a directory with model.safetensors */
    char sub[300];
    snprintf(sub, sizeof sub, "%s/single", dir);
    mkdir(sub, 0777);
    write_st("single/model.safetensors", VALID, 0, 44, 0);
    rc = am_st_open(&st, sub, &e);
    CHECK(rc == 0 && st.ntensors == 3, "directory with model.safetensors: %s", rc ? e.msg : "");
    if (!rc) am_st_close(&st);
}

static void test_malformed(void) {
    /* truncated shard: the data area is 10 bytes short */
    write_st("trunc.safetensors", VALID, 0, 34, 0);
    expect_fail("trunc.safetensors", "truncated");
    expect_fail("trunc.safetensors", "\"mid.bias\"");
    /* header length beyond the end of the file */
    write_st("hlong.safetensors", VALID, 0, 44, 5000);
    expect_fail("hlong.safetensors", "exceeds the file size");
    /* absurd header length, refused before reading it */
    write_st("habsurd.safetensors", VALID, 0, 44, 1ull << 40);
    expect_fail("habsurd.safetensors", "absurd");
    /* shorter than the length field */
    write_text("tiny.safetensors", "abc");
    expect_fail("tiny.safetensors", "too short");
    /* bad JSON */
    write_st("badjson.safetensors", "{\"a\":{\"dtype\":\"F32\",", 0, 16, 0);
    expect_fail("badjson.safetensors", "not valid JSON");
    write_st("notobj.safetensors", "[1,2,3]", 1, 0, 0);
    expect_fail("notobj.safetensors", "not a JSON object");
    /* unknown dtype, named with its tensor */
    write_st("dtype.safetensors", "{\"w.int\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 0, 8, 0);
    expect_fail("dtype.safetensors", "tensor \"w.int\": dtype I32 is not supported");
    /* shape x dtype size != byte range */
    write_st("shape.safetensors", "{\"w\":{\"dtype\":\"BF16\",\"shape\":[3,4],\"data_offsets\":[0,20]}}", 0, 24, 0);
    expect_fail("shape.safetensors", "needs 24 bytes but data_offsets [0, 20] span 20 bytes");
    /* overlapping ranges */
    write_st("overlap.safetensors",
             "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
             "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}",
             0, 24, 0);
    expect_fail("overlap.safetensors", "overlapping");
    /* missing keys, negative sizes, reversed offsets */
    write_st("nooff.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4]}}", 0, 16, 0);
    expect_fail("nooff.safetensors", "\"data_offsets\" must be an array");
    write_st("negshape.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", 0, 16, 0);
    expect_fail("negshape.safetensors", "shape[0] is not a valid size");
    write_st("revoff.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[16,0]}}", 0, 16, 0);
    expect_fail("revoff.safetensors", "0 <= begin <= end");
    write_st("dup.safetensors",
             "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
             "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
             0, 8, 0);
    expect_fail("dup.safetensors", "not valid JSON");
    expect_fail("does-not-exist.safetensors", "cannot open");
    /* directory without a checkpoint */
    char sub[300];
    snprintf(sub, sizeof sub, "%s/empty", dir);
    mkdir(sub, 0777);
    expect_fail("empty", "neither model.safetensors nor model.safetensors.index.json");

    /* error codes: malformed files are corrupt, absent ones not found */
    expect_code("trunc.safetensors", AM_E_CORRUPT);
    expect_code("hlong.safetensors", AM_E_CORRUPT);
    expect_code("tiny.safetensors", AM_E_CORRUPT);
    expect_code("badjson.safetensors", AM_E_CORRUPT);
    expect_code("shape.safetensors", AM_E_CORRUPT);
    expect_code("overlap.safetensors", AM_E_CORRUPT);
    expect_code("does-not-exist.safetensors", AM_E_NOTFOUND);
    expect_code("empty", AM_E_NOTFOUND);
}

static void test_sharded(void) {
    char sub[300];
    snprintf(sub, sizeof sub, "%s/sh", dir);
    mkdir(sub, 0777);
    const char *s1 = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                     "\"c\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,12]}}";
    const char *s2 = "{\"__metadata__\":{\"format\":\"pt\"},"
                     "\"b\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]}}";
    write_st("sh/model-00001-of-00002.safetensors", s1, 4, 12, 0);
    write_st("sh/model-00002-of-00002.safetensors", s2, 2, 6, 0);
    const char *good = "{\"metadata\":{\"total_size\":18},\"weight_map\":{"
                       "\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\","
                       "\"c\":\"model-00001-of-00002.safetensors\"}}";
    write_text("sh/model.safetensors.index.json", good);
    am_safetensors st;
    am_err e = {0};
    int rc = am_st_open(&st, sub, &e);
    CHECK(rc == 0, "sharded: %s", e.msg);
    if (!rc) {
        CHECK(st.nfiles == 2 && st.ntensors == 3, "sharded counts %d %d", st.nfiles, st.ntensors);
        const am_tensor *b = am_st_find(&st, "b"), *c = am_st_find(&st, "c");
        CHECK(b && b->file == 1 && strstr(st.files[b->file].path, "00002-of"), "b in shard 2");
        CHECK(c && c->file == 0 && c->dtype == AM_BF16, "c in shard 1");
        if (b) CHECK(((const unsigned char *)b->data)[0] == 3 && ((const unsigned char *)b->data)[5] == 38, "b bytes");
        if (c) CHECK(((const unsigned char *)c->data)[0] == (unsigned char)(8 * 7 + 3), "c bytes");
        CHECK(!strcmp(st.tensors[0].name, "a") && !strcmp(st.tensors[1].name, "b") && !strcmp(st.tensors[2].name, "c"),
              "sorted across shards");
        am_st_close(&st);
    }
    /* the index opened directly */
    char idx[400];
    snprintf(idx, sizeof idx, "%s/model.safetensors.index.json", sub);
    rc = am_st_open(&st, idx, &e);
    CHECK(rc == 0 && st.ntensors == 3, "index path: %s", rc ? e.msg : "");
    if (!rc) am_st_close(&st);

    /* tensor in a different shard than the map says */
    write_text("sh/model.safetensors.index.json",
               "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
               "\"b\":\"model-00001-of-00002.safetensors\",\"c\":\"model-00002-of-00002.safetensors\"}}");
    expect_fail("sh", "the index says");
    /* map names a shard file that does not exist */
    write_text("sh/model.safetensors.index.json",
               "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
               "\"b\":\"model-00002-of-00002.safetensors\",\"c\":\"model-00001-of-00002.safetensors\","
               "\"d\":\"model-00003-of-00003.safetensors\"}}");
    expect_fail("sh", "model-00003-of-00003.safetensors\" (e.g. for tensor \"d\")");
    expect_fail("sh", "does not exist");
    expect_code("sh", AM_E_NOTFOUND);
    /* map entry whose shard does not hold it */
    write_text("sh/model.safetensors.index.json",
               "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
               "\"b\":\"model-00002-of-00002.safetensors\",\"c\":\"model-00001-of-00002.safetensors\","
               "\"e\":\"model-00002-of-00002.safetensors\"}}");
    expect_fail("sh", "tensor \"e\" is mapped to");
    /* shard tensor absent from the map */
    write_text("sh/model.safetensors.index.json", "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
                                                  "\"b\":\"model-00002-of-00002.safetensors\"}}");
    expect_fail("sh", "tensor \"c\" is stored in model-00001-of-00002.safetensors but not listed");
    write_text("sh/model.safetensors.index.json", "{\"metadata\":{}}");
    expect_fail("sh", "\"weight_map\" missing");
    write_text("sh/model.safetensors.index.json", "{\"weight_map\":{\"a\":\"../x.safetensors\"}}");
    expect_fail("sh", "is not a file name");
    expect_code("sh", AM_E_CORRUPT);
    /* a shard with a broken header inside a sharded checkpoint */
    write_text("sh/model.safetensors.index.json", good);
    write_st("sh/model-00002-of-00002.safetensors", s2, 2, 3, 0);
    expect_fail("sh", "model-00002-of-00002.safetensors: tensor \"b\"");
}

int main(void) {
    snprintf(dir, sizeof dir, "st_test_%ld", (long)getpid());
    if (mkdir(dir, 0777)) {
        perror(dir);
        return 2;
    }
    test_valid();
    test_malformed();
    test_sharded();
    if (!failures) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd)) fprintf(stderr, "warning: could not remove %s\n", dir);
        printf("test_safetensors: all checks passed\n");
        return 0;
    }
    fprintf(stderr, "test_safetensors: %d failures (files kept in %s)\n", failures, dir);
    return 1;
}
