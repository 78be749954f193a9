/* Shell quoting and the make-safety check (see quote.h). */
#include "run/quote.h"

void am_sh_quote(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputs("'\\''", f);
        else fputc(*s, f);
    }
    fputc('\'', f);
}

int am_make_safe(const char *s) {
    for (; *s; s++)
        if (*s == ' ' || *s == ':' || *s == '#' || *s == '$' || *s == '%' || *s == '\t' || *s == '\n') return 0;
    return 1;
}
