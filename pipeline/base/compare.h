/* qsort comparators. */
#ifndef AM_COMPARE_H
#define AM_COMPARE_H

/* Doubles in ascending order. */
int am_cmp_double(const void *a, const void *b);
/* ints in ascending order. */
int am_cmp_int(const void *a, const void *b);

#endif
