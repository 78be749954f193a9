/* Progress output (base/progress.h): on a terminal one line rewritten in
 * place with a bar, rate and ETA; into a file or pipe plain lines at every
 * tenth of the work and at least every 30 s, never a carriage return. */
#include "base/progress.h"

#include "test_util.h"
#include <string.h>

/* Drive p over `total` steps, step i done at t0 + (i + 1) * dt; return what it wrote. */
static char *drive(int tty, long total, double dt, size_t *n) {
    am_progress p;
    FILE *f = tmpfile();
    REQUIRE(f, "tmpfile");
    am_progress_start(&p, "generate", "tiny", "tokens", 0);
    p.out = f, p.tty = tty;
    for (long i = 0; i < total; i++) am_progress_update_at(&p, i + 1, total, p.t0 + (double)(i + 1) * dt);
    am_progress_break(&p);
    long len = ftell(f);
    char *buf = calloc((size_t)len + 1, 1);
    REQUIRE(buf, "calloc");
    rewind(f);
    *n = fread(buf, 1, (size_t)len, f);
    fclose(f);
    return buf;
}

static int count(const char *s, char c) {
    int k = 0;
    for (; *s; s++) k += *s == c;
    return k;
}

int main(void) {
    size_t n;
    /* A log: 100 tokens at 4 tokens/s (25 s): ten lines, 10% .. 100%, no \r. */
    char *s = drive(0, 100, 0.25, &n);
    CHECK(count(s, '\r') == 0, "a log got carriage returns: %s", s);
    CHECK(count(s, '\n') == 10, "want 10 lines, got %d:\n%s", count(s, '\n'), s);
    CHECK(n < 1000, "a 100-token log wrote %zu bytes", n);
    CHECK(strstr(s, "generate tiny: 10/100 tokens (10%), 4 tokens/s, 3s elapsed, ETA 23s\n") != NULL, "first line:\n%s",
          s);
    CHECK(strstr(s, "generate tiny: 100/100 tokens (100%), 4 tokens/s, 25s elapsed, ETA 0s\n") != NULL,
          "last line:\n%s", s);
    CHECK(strstr(s, "50/100 tokens (50%)") != NULL, "no 50%% line:\n%s", s);
    free(s);

    /* A slow log: 1000 steps of 1 s. A tenth takes 100 s, so a line comes
     * every 30 s in between: t = 30, 60, 90, 100 (10%), 130, ... */
    s = drive(0, 1000, 1.0, &n);
    int lines = count(s, '\n');
    CHECK(count(s, '\r') == 0, "carriage returns in a log");
    CHECK(lines == 40, "want 40 lines (3 at 30 s steps + 1 at each tenth, x10), got %d", lines);
    CHECK(strstr(s, "30/1000 tokens (3%), 1 tokens/s, 30s elapsed, ETA 16m10s\n") != NULL, "30 s line:\n%.400s", s);
    CHECK(strstr(s, "100/1000 tokens (10%)") != NULL && strstr(s, "130/1000 tokens (13%)") != NULL,
          "lines at 100 s and 130 s:\n%.600s", s);
    free(s);

    /* A terminal: \r rewrites with a bar, at most every 0.5 s, one newline at the end. */
    s = drive(1, 100, 0.25, &n);
    CHECK(count(s, '\n') == 1, "terminal: want one newline, got %d", count(s, '\n'));
    CHECK(count(s, '\r') == 50, "terminal: want 50 rewrites (every 0.5 s over 25 s), got %d", count(s, '\r'));
    CHECK(strstr(s, "\rgenerate tiny: [##########..........] 50/100 tokens, 4 tokens/s, 13s elapsed, ETA 13s") != NULL,
          "terminal bar at 50%%:\n%s", s);
    CHECK(strstr(s, "[####################] 100/100 tokens") != NULL, "terminal bar at 100%%");
    free(s);

    /* quiet writes nothing; a zero total is ignored */
    am_progress q;
    FILE *f = tmpfile();
    am_progress_start(&q, "forward", "tiny", "units", 1);
    q.out = f;
    am_progress_update_at(&q, 5, 10, q.t0 + 100);
    q.quiet = 0;
    am_progress_update_at(&q, 0, 0, q.t0 + 100);
    CHECK(ftell(f) == 0, "quiet or empty progress wrote %ld bytes", ftell(f));
    fclose(f);
    return failures != 0;
}
