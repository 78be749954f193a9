/* attnmix-tokenize: encode text with a Qwen2/Qwen3 tokenizer.json.
 *   --jsonl    stdin: JSON Lines of strings; stdout: one JSON array of ids per line
 *   --decode   stdin: JSON Lines of id arrays; stdout: one JSON string per line
 *   (default)  text from the arguments or stdin; prints id, token, decoded text */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "base/hub.h"
#include "stage/stage.h"
#include "tokenizer/tokenizer.h"

#define PROG "attnmix-tokenize"

typedef enum mode { MODE_HUMAN = 0, MODE_JSONL, MODE_DECODE } mode;

typedef struct options {
    const char *tokenizer; /* --tokenizer PATH (required) */
    mode mode;
    char **args; /* text arguments (human mode) */
    int n_args;
} options;

static void usage(FILE *f) {
    fprintf(f, "usage: " PROG " --tokenizer PATH [--jsonl | --decode] [TEXT...]\n"
               "       " PROG " --config FILE [--model NAME] [--pair KEY] [--out PATH] [--force]\n"
               "\n"
               "Encodes UTF-8 text with a Hugging Face tokenizer.json of the Qwen2/Qwen3 family\n"
               "(byte-level BPE) exactly like HF tokenizers, without adding special tokens;\n"
               "special-token strings in the text (e.g. <|endoftext|>) map to their ids.\n"
               "\n"
               "  -t, --tokenizer PATH  tokenizer.json, or a directory holding one, or a hub id\n"
               "                        (Qwen/Qwen3-1.7B) in the Hugging Face cache\n"
               "  -j, --jsonl           stdin: JSON Lines, each a JSON string;\n"
               "                        stdout: one JSON array of ids per line\n"
               "  -d, --decode          stdin: JSON Lines, each a JSON array of ids;\n"
               "                        stdout: one JSON string per line\n"
               "  -h, --help            this help\n"
               "\n"
               "Without --jsonl/--decode the TEXT arguments (joined by spaces) or else all of\n"
               "stdin are encoded and each token is printed as: id, token, decoded bytes.\n"
               "\n"
               "With --config it is the pipeline stage: the prompt pairs of the experiment are\n"
               "tokenized, the shorter of each pair padded, into OUT/<model>/tokens.h5\n"
               "(" PROG " --config FILE --help lists the stage options).\n");
}

static void die(const char *what, const am_err *e) {
    fprintf(stderr, PROG ": %s%s%s\n", what ? what : "", what ? ": " : "", e->msg);
    exit(am_exit_status(e));
}

/* Print s[0..n) as a JSON-style quoted string; invalid UTF-8 bytes as \xNN. */
static void print_quoted(FILE *f, const unsigned char *s, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned c = s[i];
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c == '\r') fputs("\\r", f);
        else if (c < 0x20 || c == 0x7f) fprintf(f, "\\u%04x", c);
        else if (c < 0x80) fputc((int)c, f);
        else {
            size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0, j = 1;
            while (k && j < k && i + j < n && (s[i + j] & 0xc0) == 0x80) j++;
            if (k && j == k) {
                fwrite(s + i, 1, k, f);
                i += k - 1;
            } else fprintf(f, "\\x%02x", c);
        }
    }
    fputc('"', f);
}

static int run_human(const am_tokenizer *t, const options *o) {
    char *text = NULL;
    size_t len = 0;
    am_err e = {0};
    if (o->n_args) {
        for (int i = 0; i < o->n_args; i++) len += strlen(o->args[i]) + 1;
        if (!(text = am_malloc(len + 1, 1, "the argument text", &e))) die(NULL, &e);
        len = 0;
        for (int i = 0; i < o->n_args; i++) {
            if (i) text[len++] = ' ';
            size_t k = strlen(o->args[i]);
            memcpy(text + len, o->args[i], k);
            len += k;
        }
    } else if (am_read_stream(stdin, "stdin", &text, &len, &e) < 0) {
        die(NULL, &e);
    }
    int32_t *ids;
    size_t n;
    if (am_tok_encode(t, text, len, &ids, &n, &e)) die(o->n_args ? "argument text" : "stdin", &e);
    for (size_t i = 0; i < n; i++) {
        const char *tok = am_tok_token_str(t, ids[i]);
        char *dec;
        size_t dlen;
        printf("%8d  ", ids[i]);
        print_quoted(stdout, (const unsigned char *)tok, strlen(tok));
        fputs("  ", stdout);
        if (am_tok_decode(t, ids + i, 1, &dec, &dlen, &e)) die("decode", &e);
        print_quoted(stdout, (const unsigned char *)dec, dlen);
        fputc('\n', stdout);
        free(dec);
    }
    fprintf(stderr, "%zu tokens, %zu bytes\n", n, len);
    free(ids);
    free(text);
    return 0;
}

/* Write "[id,id,...]\n" quickly. */
static void print_ids(const int32_t *ids, size_t n) {
    char buf[4096];
    size_t o = 0;
    buf[o++] = '[';
    for (size_t i = 0; i < n; i++) {
        if (o > sizeof buf - 16) {
            fwrite(buf, 1, o, stdout);
            o = 0;
        }
        if (i) buf[o++] = ',';
        char tmp[12];
        int k = 0;
        uint32_t v = (uint32_t)ids[i];
        do {
            tmp[k++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        while (k) buf[o++] = tmp[--k];
    }
    buf[o++] = ']';
    buf[o++] = '\n';
    fwrite(buf, 1, o, stdout);
}

/* JSON Lines on stdin -> one result per line on stdout; stops at the first bad
 * line. Returns the exit status. */
static int run_jsonl(const am_tokenizer *t, int decode) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    long lineno = 0;
    int rc = 0;
    am_err e = {0};
    while (rc == 0 && (got = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        json_error_t je;
        json_t *v = json_loadb(line, (size_t)got, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        if (!v) {
            rc = am_fail_code(&e, AM_E_CORRUPT, "stdin line %ld column %d: invalid JSON: %s", lineno, je.column,
                              je.text);
            break;
        }
        if (!decode) {
            int32_t *ids;
            size_t n;
            if (!json_is_string(v))
                rc = am_fail_code(&e, AM_E_CORRUPT, "stdin line %ld: expected a JSON string", lineno);
            else if (am_tok_encode(t, json_string_value(v), json_string_length(v), &ids, &n, &e))
                rc = am_wrap(&e, "stdin line %ld", lineno);
            else {
                print_ids(ids, n);
                free(ids);
            }
        } else {
            size_t n = json_is_array(v) ? json_array_size(v) : 0;
            int32_t *ids = am_malloc(n + 1, sizeof *ids, "the ids of a line", &e);
            int ok = json_is_array(v);
            for (size_t i = 0; ids && ok && i < n; i++) {
                json_t *x = json_array_get(v, i);
                ok = json_is_integer(x) && json_integer_value(x) >= 0 && json_integer_value(x) <= INT32_MAX;
                if (ok) ids[i] = (int32_t)json_integer_value(x);
            }
            char *s = NULL;
            size_t slen;
            if (!ids) rc = am_wrap(&e, "stdin line %ld", lineno);
            else if (!ok)
                rc = am_fail_code(&e, AM_E_CORRUPT,
                                  "stdin line %ld: expected a JSON array of non-negative integer "
                                  "ids",
                                  lineno);
            else if (am_tok_decode(t, ids, n, &s, &slen, &e)) rc = am_wrap(&e, "stdin line %ld", lineno);
            else {
                json_t *js = json_stringn_nocheck(s, slen);
                char *dump = js ? json_dumps(js, JSON_ENCODE_ANY) : NULL;
                if (dump) puts(dump);
                else rc = am_fail_code(&e, AM_E_NOMEM, "stdin line %ld: out of memory", lineno);
                free(dump);
                json_decref(js);
            }
            free(s);
            free(ids);
        }
        json_decref(v);
    }
    free(line);
    if (rc == 0 && (fflush(stdout) || ferror(stdout))) rc = am_fail_code(&e, AM_E_IO, "error writing stdout");
    if (rc == 0) return 0;
    fprintf(stderr, PROG ": %s\n", e.msg);
    return am_exit_status(&e);
}

static void parse_options(int argc, char **argv, options *o) {
    static const struct option longopts[] = {
        {"tokenizer", required_argument, NULL, 't'},
        {"jsonl", no_argument, NULL, 'j'},
        {"decode", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    int c;
    while ((c = getopt_long(argc, argv, "t:jdh", longopts, NULL)) != -1) {
        switch (c) {
        case 't': o->tokenizer = optarg; break;
        case 'j': o->mode = MODE_JSONL; break;
        case 'd': o->mode = MODE_DECODE; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    o->args = argv + optind;
    o->n_args = argc - optind;
    if (!o->tokenizer) {
        fprintf(stderr, PROG ": --tokenizer PATH is required\n");
        usage(stderr);
        exit(2);
    }
    if (o->mode != MODE_HUMAN && o->n_args) {
        fprintf(stderr, PROG ": --jsonl and --decode read stdin; unexpected argument '%s'\n", o->args[0]);
        exit(2);
    }
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) /* the pipeline stage: see pipeline/stage/cli.c */
        if (strcmp(argv[i], "--config") == 0 || strncmp(argv[i], "--config=", 9) == 0 || strcmp(argv[i], "-c") == 0)
            return am_stage_main("tokenize", argc, argv);
    options o;
    parse_options(argc, argv, &o);
    am_err e = {0};
    am_tokenizer *t;
    char *dir = NULL; /* a hub id (Qwen/Qwen3-1.7B) names its snapshot in the Hugging Face cache */
    if (am_hub_resolve(o.tokenizer, NULL, "--tokenizer", &dir, &e) || am_tok_load(&t, dir, &e)) die(NULL, &e);
    free(dir);
    int rc;
    switch (o.mode) {
    case MODE_JSONL: rc = run_jsonl(t, 0); break;
    case MODE_DECODE: rc = run_jsonl(t, 1); break;
    default: rc = run_human(t, &o); break;
    }
    am_tok_free(t);
    return rc;
}
