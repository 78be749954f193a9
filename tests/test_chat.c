/* Qwen3's chat template: the text HF's apply_chat_template produces for one
 * user message with add_generation_prompt=True (and enable_thinking=False for
 * chat-nothink), written out below, the ids of that text in the real
 * tokenizer, where the template's own tokens begin and end, and the
 * template/align keys of the config. */
#include "base/config.h"
#include "tokenizer/chat.h"
#include "tokenizer/tokenizer.h"

#include "test_util.h"
#include <stdlib.h>
#include <string.h>

/* tokenizer.apply_chat_template([{"role": "user", "content": TEXT}], tokenize=False,
 * add_generation_prompt=True) with Qwen3's tokenizer_config.json, for the texts below. */
static const struct {
    const char *text, *chat, *nothink;
} hf[] = {
    {"The capital of France is", "<|im_start|>user\nThe capital of France is<|im_end|>\n<|im_start|>assistant\n",
     "<|im_start|>user\nThe capital of France is<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"},
    {"La capitale de la France est",
     "<|im_start|>user\nLa capitale de la France est<|im_end|>\n<|im_start|>assistant\n",
     "<|im_start|>user\nLa capitale de la France est<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"},
    {"Line one\nline two\n", "<|im_start|>user\nLine one\nline two\n<|im_end|>\n<|im_start|>assistant\n",
     "<|im_start|>user\nLine one\nline two\n<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"},
    {"\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x99\x82", /* 中文 🙂 */
     "<|im_start|>user\n\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x99\x82<|im_end|>\n<|im_start|>assistant\n",
     "<|im_start|>user\n\xe4\xb8\xad\xe6\x96\x87 "
     "\xf0\x9f\x99\x82<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"},
};

static int ids_equal(const int32_t *a, size_t n, const int32_t *b, size_t m) {
    return n == m && memcmp(a, b, n * sizeof *a) == 0;
}

static void check_config(const char *yaml, int ok, int tpl, int align_t, int left, const char *msg) {
    am_config c;
    am_err e = {0};
    int rc = am_config_parse(&c, yaml, strlen(yaml), "t.yaml", &e);
    if (ok) {
        CHECK(rc == 0, "%s: %s", yaml, e.msg);
        if (rc == 0) {
            CHECK(c.chat_template == tpl && c.align_template == align_t && c.pad_left == left,
                  "%s: template %d align_template %d pad_left %d", yaml, c.chat_template, c.align_template, c.pad_left);
            am_config_free(&c);
        }
    } else {
        CHECK(rc == -1 && e.code == AM_E_USAGE && strstr(e.msg, msg), "%s: rc %d message '%s', want '%s'", yaml, rc,
              e.msg, msg);
    }
}

int main(void) {
    for (size_t i = 0; i < sizeof hf / sizeof hf[0]; i++) {
        char *s = NULL;
        am_err e = {0};
        CHECK(am_chat_wrap(AM_CHAT, hf[i].text, &s, &e) == 0 && !strcmp(s, hf[i].chat), "chat %zu: '%s'", i, s);
        free(s), s = NULL;
        CHECK(am_chat_wrap(AM_CHAT_NOTHINK, hf[i].text, &s, &e) == 0 && !strcmp(s, hf[i].nothink), "nothink %zu: '%s'",
              i, s);
        free(s), s = NULL;
        CHECK(am_chat_wrap(AM_CHAT_NONE, hf[i].text, &s, &e) == 0 && !strcmp(s, hf[i].text), "none %zu", i);
        free(s);
    }

    /* the template's ids in the real tokenizer: <|im_start|> 151644, "user" 872,
     * "\n" 198, <|im_end|> 151645, "assistant" 77091, <think> 151667,
     * </think> 151668, "\n\n" 271; the text "The capital of France is" is
     * 785 6722 315 9625 374 (HF tokenizers). */
    const char *dir = getenv("ATTNMIX_TOKENIZER_DIR");
    REQUIRE(dir && *dir, "ATTNMIX_TOKENIZER_DIR is not set");
    am_tokenizer *tok = NULL;
    am_err e = {0};
    REQUIRE(am_tok_load(&tok, dir, &e) == 0, "%s", e.msg);
    static const int32_t want_chat[] = {151644, 872, 198, 785, 6722, 315, 9625, 374, 151645, 198, 151644, 77091, 198};
    static const int32_t want_nothink[] = {151644, 872,    198,   785, 6722,   315, 9625,   374, 151645,
                                           198,    151644, 77091, 198, 151667, 271, 151668, 271};
    int32_t *ids = NULL;
    size_t n = 0, n_pre = 0, n_post = 0;
    CHECK(am_chat_encode(tok, AM_CHAT, hf[0].text, &ids, &n, &n_pre, &n_post, &e) == 0, "%s", e.msg);
    CHECK(ids_equal(ids, n, want_chat, 13) && n_pre == 3 && n_post == 5, "chat: n %zu pre %zu post %zu", n, n_pre,
          n_post);
    free(ids), ids = NULL;
    CHECK(am_chat_encode(tok, AM_CHAT_NOTHINK, hf[0].text, &ids, &n, &n_pre, &n_post, &e) == 0, "%s", e.msg);
    CHECK(ids_equal(ids, n, want_nothink, 17) && n_pre == 3 && n_post == 9, "nothink: n %zu pre %zu post %zu", n, n_pre,
          n_post);
    free(ids), ids = NULL;
    CHECK(am_chat_encode(tok, AM_CHAT_NONE, hf[0].text, &ids, &n, &n_pre, &n_post, &e) == 0, "%s", e.msg);
    CHECK(ids_equal(ids, n, want_chat + 3, 5) && n_pre == 0 && n_post == 0, "none: n %zu", n);
    free(ids), ids = NULL;
    /* a text starting with a newline merges with the "\n" after "user" (-> 271): no clean boundary */
    CHECK(am_chat_encode(tok, AM_CHAT, "\nHi", &ids, &n, &n_pre, &n_post, &e) == 0, "%s", e.msg);
    CHECK(n >= 3 && ids[1] == 872 && ids[2] == 271 && n_pre == (size_t)-1 && n_post == (size_t)-1,
          "leading newline: n_pre %zu", n_pre);
    free(ids);
    am_tok_free(tok);

    /* config keys */
    const char *base = "experiment: x\nmodels: [{name: m, checkpoint: /c}]\npairs: [{key: k, a: x, b: y}]\n";
    char y[512];
#define CFG(extra) (snprintf(y, sizeof y, "%s%s", base, extra), y)
    check_config(CFG(""), 1, 0, 0, 1, NULL);
    check_config(CFG("template: chat\n"), 1, 1, 0, 1, NULL);
    check_config(CFG("template: chat-nothink\nalign: template\n"), 1, 2, 1, 0, NULL);
    check_config(CFG("template: chat\nalign: right\n"), 1, 1, 0, 0, NULL);
    check_config(CFG("align: left\n"), 1, 0, 0, 1, NULL);
    check_config(CFG("template: chatml\n"), 0, 0, 0, 0,
                 "t.yaml:4:11: 'template' must be one of none, chat, chat-nothink, got 'chatml'");
    check_config(CFG("align: template\n"), 0, 0, 0, 0,
                 "t.yaml:4:8: 'align: template' needs 'template: chat' or 'template: chat-nothink'");
    check_config(CFG("template: chat\nalign: right\npadding: {side: left}\n"), 0, 0, 0, 0,
                 "t.yaml:5:8: 'align' and 'padding.side' are both set");
    check_config(CFG("template: chat\nalign: template\npadding: {mask: true}\n"), 0, 0, 0, 0, "cannot mask them");
#undef CFG
    return failures != 0;
}
