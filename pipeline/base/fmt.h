/* Numbers as text that reads back to the same double: alphas in tables and
 * reports, where "%g" would print 0.1234561 and 0.1234562 alike. */
#ifndef AM_FMT_H
#define AM_FMT_H

#include <stddef.h>

/* The shortest "%.<p>g" of v (p = 1..17) that strtod reads back as v. */
void am_fmt_exact(double v, char *buf, size_t n);

#endif
