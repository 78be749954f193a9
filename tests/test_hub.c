/* Hub ids in the Hugging Face cache: a cache laid out by hand as
 * huggingface_hub writes it (refs/<branch> holding a commit, snapshots/<commit>/
 * with config.json as a symlink into blobs/), found through HF_HUB_CACHE,
 * HF_HOME/hub and ~/.cache/huggingface/hub, with a revision key, and the
 * messages when the model, the revision or the download is missing. */
#include "base/config.h"
#include "base/hub.h"

#include "test_util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAIN_REV "0123456789abcdef0123456789abcdef01234567"
#define OLD_REV "89abcdef0123456789abcdef0123456789abcdef"

static char root[512];

static void put(const char *rel, const char *text) {
    char p[1024], cmd[1200];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", p);
    REQUIRE(system(cmd) == 0, "%s", cmd);
    FILE *f = fopen(p, "w");
    REQUIRE(f, "cannot write %s", p);
    fputs(text, f);
    fclose(f);
}

static void link_to(const char *target, const char *rel) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    REQUIRE(symlink(target, p) == 0, "symlink %s", p);
}

/* cache/models--Qwen--Qwen3-1.7B with branch main and tag v1 (an older commit). */
static void lay_out_cache(const char *cache) {
    char rel[600];
    const char *repo = "models--Qwen--Qwen3-1.7B";
#define R(fmt, ...) (snprintf(rel, sizeof rel, "%s/%s/" fmt, cache, repo, __VA_ARGS__), rel)
    put(R("blobs/%s", "aaa"), "{\"model_type\": \"qwen3\"}");
    put(R("blobs/%s", "bbb"), "{\"model_type\": \"qwen3\", \"old\": true}");
    put(R("refs/%s", "main"), MAIN_REV); /* huggingface_hub writes no newline */
    put(R("refs/%s", "v1"), OLD_REV "\n");
    put(R("snapshots/%s/tokenizer.json", MAIN_REV), "{}");
    link_to("../../blobs/aaa", R("snapshots/%s/config.json", MAIN_REV));
    put(R("snapshots/%s/tokenizer.json", OLD_REV), "{}");
    link_to("../../blobs/bbb", R("snapshots/%s/config.json", OLD_REV));
    /* a snapshot whose download stopped: config.json points at a missing blob */
    put(R("refs/%s", "broken"), "fedcba9876543210fedcba9876543210fedcba98");
    put(R("snapshots/%s/tokenizer.json", "fedcba9876543210fedcba9876543210fedcba98"), "{}");
    link_to("../../blobs/missing", R("snapshots/%s/config.json", "fedcba9876543210fedcba9876543210fedcba98"));
#undef R
}

static void unset_all(void) {
    unsetenv("HUGGINGFACE_HUB_CACHE");
    unsetenv("HF_HUB_CACHE");
    unsetenv("HF_HOME");
    unsetenv("XDG_CACHE_HOME");
}

/* Resolve and return the directory (static buffer) or the message. */
static const char *resolve(const char *spec, const char *rev, int *rc, am_err *e) {
    static char out[2048];
    char *dir = NULL;
    memset(e, 0, sizeof *e);
    *rc = am_hub_resolve(spec, rev, "models[0].checkpoint", &dir, e);
    snprintf(out, sizeof out, "%s", *rc ? e->msg : dir);
    free(dir);
    return out;
}

static void expect_dir(const char *spec, const char *rev, const char *want) {
    am_err e;
    int rc;
    const char *got = resolve(spec, rev, &rc, &e);
    CHECK(rc == 0 && !strcmp(got, want), "%s@%s: got '%s' (rc %d), want '%s'", spec, rev ? rev : "-", got, rc, want);
}

static void expect_err(const char *spec, const char *rev, am_code code, const char *const *parts) {
    am_err e;
    int rc;
    const char *got = resolve(spec, rev, &rc, &e);
    CHECK(rc == -1 && e.code == code, "%s@%s: rc %d code %d, want code %d (%s)", spec, rev ? rev : "-", rc, e.code,
          code, got);
    for (; *parts; parts++) CHECK(strstr(got, *parts), "%s: message '%s' lacks '%s'", spec, got, *parts);
}

static void write_config(const char *path, const char *model_lines) {
    FILE *f = fopen(path, "w");
    REQUIRE(f, "cannot write %s", path);
    fprintf(f, "experiment: hub\nmodels:\n%s\npairs:\n  - {key: k, a: x, b: y}\n", model_lines);
    fclose(f);
}

int main(void) {
    char tmpl[] = "/tmp/attnmix-hub-XXXXXX", want[1024], want_old[1024], cache[600], cfg[700];
    REQUIRE(mkdtemp(tmpl), "mkdtemp");
    snprintf(root, sizeof root, "%s", tmpl);

    /* hub id syntax */
    CHECK(am_hub_is_id("Qwen/Qwen3-1.7B"), "Qwen/Qwen3-1.7B");
    CHECK(am_hub_is_id("gpt2/x_y.z"), "gpt2/x_y.z");
    CHECK(!am_hub_is_id("Qwen3-1.7B"), "no namespace");
    CHECK(!am_hub_is_id("/data/Qwen/Qwen3"), "absolute path");
    CHECK(!am_hub_is_id("build/models/qwen3-tiny"), "two slashes");
    CHECK(!am_hub_is_id("./Qwen3"), "dot");
    CHECK(!am_hub_is_id("../x"), "dot dot");
    CHECK(!am_hub_is_id("Qwen/a--b"), "double dash");
    CHECK(!am_hub_is_id("Qwen/a..b"), "double dot");
    CHECK(!am_hub_is_id("Qwen/"), "empty name");

    /* 1. HF_HUB_CACHE */
    unset_all();
    lay_out_cache("hubcache");
    snprintf(cache, sizeof cache, "%s/hubcache", root);
    setenv("HF_HUB_CACHE", cache, 1);
    setenv("HF_HOME", "/nonexistent", 1); /* HF_HUB_CACHE wins */
    snprintf(want, sizeof want, "%s/models--Qwen--Qwen3-1.7B/snapshots/%s", cache, MAIN_REV);
    snprintf(want_old, sizeof want_old, "%s/models--Qwen--Qwen3-1.7B/snapshots/%s", cache, OLD_REV);
    expect_dir("Qwen/Qwen3-1.7B", NULL, want);
    expect_dir("Qwen/Qwen3-1.7B", "main", want);
    expect_dir("Qwen/Qwen3-1.7B", "v1", want_old);
    expect_dir("Qwen/Qwen3-1.7B", OLD_REV, want_old);
    {
        const char *m[] = {"'Qwen/Qwen3-0.6B'", "models--Qwen--Qwen3-0.6B", "huggingface-cli download Qwen/Qwen3-0.6B`",
                           "models[0].checkpoint", NULL};
        expect_err("Qwen/Qwen3-0.6B", NULL, AM_E_NOTFOUND, m);
    }
    {
        const char *m[] = {"revision 'v2'", "refs/v2", "huggingface-cli download Qwen/Qwen3-1.7B --revision v2", NULL};
        expect_err("Qwen/Qwen3-1.7B", "v2", AM_E_NOTFOUND, m);
    }
    {
        const char *m[] = {"snapshot", "1111111111111111111111111111111111111111", "is not in the Hugging Face cache",
                           NULL};
        expect_err("Qwen/Qwen3-1.7B", "1111111111111111111111111111111111111111", AM_E_NOTFOUND, m);
    }
    {
        const char *m[] = {"has no config.json", "incomplete download", "--revision broken", NULL};
        expect_err("Qwen/Qwen3-1.7B", "broken", AM_E_NOTFOUND, m);
    }
    {
        const char *m[] = {"revision '../../etc'", NULL};
        expect_err("Qwen/Qwen3-1.7B", "../../etc", AM_E_USAGE, m);
    }
    /* a directory stays a directory (also one that looks like an id), and takes no revision */
    put("Qwen/Qwen3-1.7B/config.json", "{}");
    REQUIRE(chdir(root) == 0, "chdir");
    expect_dir("Qwen/Qwen3-1.7B", NULL, "Qwen/Qwen3-1.7B");
    expect_dir("build/models/missing", NULL, "build/models/missing"); /* not an id: left to the loader */
    {
        const char *m[] = {"is a directory", "'revision' applies only to hub ids", NULL};
        expect_err("Qwen/Qwen3-1.7B", "main", AM_E_USAGE, m);
    }
    REQUIRE(chdir("/") == 0, "chdir");

    /* 1b. the older name of HF_HUB_CACHE */
    unset_all();
    setenv("HUGGINGFACE_HUB_CACHE", cache, 1);
    expect_dir("Qwen/Qwen3-1.7B", NULL, want);

    /* 2. HF_HOME/hub */
    unset_all();
    lay_out_cache("home/hub");
    snprintf(cache, sizeof cache, "%s/home", root);
    setenv("HF_HOME", cache, 1);
    snprintf(want, sizeof want, "%s/home/hub/models--Qwen--Qwen3-1.7B/snapshots/%s", root, MAIN_REV);
    expect_dir("Qwen/Qwen3-1.7B", NULL, want);

    /* 3. ~/.cache/huggingface/hub */
    unset_all();
    lay_out_cache("user/.cache/huggingface/hub");
    snprintf(cache, sizeof cache, "%s/user", root);
    setenv("HOME", cache, 1);
    snprintf(want, sizeof want, "%s/user/.cache/huggingface/hub/models--Qwen--Qwen3-1.7B/snapshots/%s", root, MAIN_REV);
    expect_dir("Qwen/Qwen3-1.7B", NULL, want);

    /* 4. through the config: checkpoint and the tokenizer that defaults to it follow the id */
    snprintf(cfg, sizeof cfg, "%s/hub.yaml", root);
    write_config(cfg, "  - name: q\n    checkpoint: Qwen/Qwen3-1.7B\n  - name: old\n    checkpoint: "
                      "Qwen/Qwen3-1.7B\n    revision: v1\n  - name: local\n    checkpoint: /data/m");
    {
        am_config c;
        am_err e = {0};
        int rc = am_config_load(&c, cfg, &e);
        REQUIRE(rc == 0, "load: %s", e.msg);
        CHECK(!strcmp(c.models[0].checkpoint, want), "checkpoint %s", c.models[0].checkpoint);
        CHECK(!strcmp(c.models[0].tokenizer, want), "tokenizer %s", c.models[0].tokenizer);
        CHECK(c.models[0].hub_id && !strcmp(c.models[0].hub_id, "Qwen/Qwen3-1.7B"), "hub_id");
        CHECK(strstr(c.models[1].checkpoint, OLD_REV) && strstr(c.models[1].tokenizer, OLD_REV), "v1: %s",
              c.models[1].checkpoint);
        CHECK(!strcmp(c.models[2].checkpoint, "/data/m") && !c.models[2].hub_id, "directory kept");
        am_config_free(&c);
    }
    /* a hub id not in the cache: the config loads (analysis and plots need no checkpoint), the
     * message waits in hub_missing for the run check and the model's stages */
    write_config(cfg, "  - name: big\n    checkpoint: Qwen/Qwen3-14B");
    {
        am_config c;
        am_err e = {0};
        int rc = am_config_load(&c, cfg, &e);
        REQUIRE(rc == 0, "load: %s", e.msg);
        CHECK(!strcmp(c.models[0].checkpoint, "Qwen/Qwen3-14B") && !c.models[0].hub_id, "kept");
        CHECK(c.models[0].hub_missing &&
                  strstr(c.models[0].hub_missing, "hub.yaml: model 'big': models[0].checkpoint 'Qwen/Qwen3-14B'") &&
                  strstr(c.models[0].hub_missing, "huggingface-cli download Qwen/Qwen3-14B"),
              "message: %s", c.models[0].hub_missing ? c.models[0].hub_missing : "(none)");
        am_config_free(&c);
    }
    /* a snapshot without tokenizer.json (the token table) when the tokenizer is the checkpoint's */
    {
        char tj[1100];
        snprintf(tj, sizeof tj, "%s/tokenizer.json", want);
        REQUIRE(unlink(tj) == 0, "unlink %s", tj);
        write_config(cfg, "  - name: q\n    checkpoint: Qwen/Qwen3-1.7B");
        am_config c;
        am_err e = {0};
        REQUIRE(am_config_load(&c, cfg, &e) == 0, "load: %s", e.msg);
        CHECK(c.models[0].hub_missing && strstr(c.models[0].hub_missing, "has no tokenizer.json") &&
                  strstr(c.models[0].hub_missing, "huggingface-cli download Qwen/Qwen3-1.7B"),
              "no tokenizer.json: %s", c.models[0].hub_missing ? c.models[0].hub_missing : "(none)");
        am_config_free(&c);
        write_config(cfg, "  - name: q\n    checkpoint: Qwen/Qwen3-1.7B\n    tokenizer: /tok.json");
        REQUIRE(am_config_load(&c, cfg, &e) == 0, "load: %s", e.msg);
        CHECK(!c.models[0].hub_missing && !strcmp(c.models[0].checkpoint, want), "own tokenizer: %s",
              c.models[0].hub_missing ? c.models[0].hub_missing : c.models[0].checkpoint);
        am_config_free(&c);
    }
    /* a revision with a directory is an error of the config */
    write_config(cfg, "  - name: local\n    checkpoint: /\n    revision: main");
    {
        am_config c;
        am_err e = {0};
        int rc = am_config_load(&c, cfg, &e);
        CHECK(rc == -1 && e.code == AM_E_USAGE && strstr(e.msg, "hub.yaml: model 'local'") &&
                  strstr(e.msg, "'revision' applies only to hub ids"),
              "rc %d: %s", rc, e.msg);
    }
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
    return failures != 0;
}
