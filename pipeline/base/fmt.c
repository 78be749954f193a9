/* Round-tripping number text (see fmt.h). */
#include <stdio.h>
#include <stdlib.h>

#include "base/fmt.h"

void am_fmt_exact(double v, char *buf, size_t n) {
    if (v == 0.0) v = 0.0; /* no "-0" */
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, n, "%.*g", p, v);
        if (strtod(buf, NULL) == v) return;
    }
}
