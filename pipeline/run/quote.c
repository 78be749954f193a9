/* The check and the quoting of data written into scripts (see quote.h). */
#include <string.h>

#include "run/quote.h"

/* A readable name for byte ch in a message. */
static const char *char_name(unsigned char ch, char buf[16]) {
    switch (ch) {
    case '\n': return "a newline (\\n)";
    case '\r': return "a carriage return (\\r)";
    case '\t': return "a tab (\\t)";
    case ' ': return "a space";
    default: break;
    }
    if (ch < 0x20 || ch == 0x7f) snprintf(buf, 16, "byte 0x%02x", ch);
    else snprintf(buf, 16, "'%c'", ch);
    return buf;
}

/* value (at most 200 bytes of it) with control characters as \n, \t, \xNN, into out[cap]. */
static void printable(const char *value, char *out, size_t cap) {
    size_t k = 0;
    for (size_t i = 0; value[i] && i < 200 && k + 5 < cap; i++) {
        unsigned char ch = (unsigned char)value[i];
        if (ch == '\n') k += (size_t)snprintf(out + k, cap - k, "\\n");
        else if (ch == '\t') k += (size_t)snprintf(out + k, cap - k, "\\t");
        else if (ch < 0x20 || ch == 0x7f) k += (size_t)snprintf(out + k, cap - k, "\\x%02x", ch);
        else out[k++] = (char)ch;
    }
    out[k] = 0;
}

int am_script_value_check(const char *key, const char *value, int where, am_err *e) {
    char buf[16], shown[1024];
    for (size_t i = 0; value[i]; i++) {
        unsigned char ch = (unsigned char)value[i];
        const char *why = NULL;
        if (ch < 0x20 || ch == 0x7f) why = "no control character can be written into a script line";
        else if (ch == '$')
            why = "environment variables and commands are not expanded in the config; write the path out";
        else if (where == AM_IN_SBATCH && (ch == ' ' || ch == '\'' || ch == '"' || ch == '\\' || ch == '%'))
            why = "it appears in an #SBATCH line, which Slurm reads unquoted ('%' starts a file-name pattern)";
        if (why) {
            printable(value, shown, sizeof shown);
            return am_fail_code(e, AM_E_USAGE, "%s: '%s' contains %s at byte %zu: %s", key, shown, char_name(ch, buf),
                                i, why);
        }
    }
    return 0;
}

int am_script_config_check(const am_config *c, int where, am_err *e) {
    char key[160];
    size_t n = strlen(c->experiment) + 5;
    /* output_dir defaults to out/<experiment>: name the key the user wrote */
    int from_name = strncmp(c->output_dir, "out/", 4) == 0 && strlen(c->output_dir) == n - 1 &&
                    strcmp(c->output_dir + 4, c->experiment) == 0;
    snprintf(key, sizeof key, "%s: %s", c->path,
             from_name ? "experiment (output_dir defaults to out/<experiment>)" : "output_dir");
    if (am_script_value_check("the config file's path", c->path, AM_IN_SCRIPT, e) < 0) return -1;
    if (am_script_value_check(key, c->output_dir, where, e) < 0) return -1;
    for (int i = 0; i < c->n_models; i++) {
        snprintf(key, sizeof key, "%s: models[%d].checkpoint", c->path, i);
        if (am_script_value_check(key, c->models[i].checkpoint, AM_IN_SCRIPT, e) < 0) return -1;
        snprintf(key, sizeof key, "%s: models[%d].tokenizer", c->path, i);
        if (c->models[i].tokenizer && am_script_value_check(key, c->models[i].tokenizer, AM_IN_SCRIPT, e) < 0)
            return -1;
    }
    return 0;
}

void am_sh_quote(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputs("'\\''", f);
        else fputc(*s, f);
    }
    fputc('\'', f);
}

void am_make_quote(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputs("'\\''", f);
        else if (*s == '$') fputs("$$", f);
        else fputc(*s, f);
    }
    fputc('\'', f);
}

void am_plain_name(const char *s, char *out, size_t cap) {
    size_t k = 0;
    for (; *s && k + 1 < cap; s++) {
        char ch = *s;
        int ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                 ch == '_' || ch == '+' || ch == '-';
        out[k++] = ok ? ch : '_';
    }
    if (cap) out[k] = 0;
}
