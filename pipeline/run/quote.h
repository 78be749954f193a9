/* Data written into generated scripts: shell single quoting (make recipes run
 * by /bin/sh, Slurm batch scripts run by bash) and the check that a path can
 * be a word of a Makefile's target and prerequisite lists. */
#ifndef AM_QUOTE_H
#define AM_QUOTE_H

#include <stdio.h>

/* Write s single-quoted for sh and bash: it's -> 'it'\''s'. */
void am_sh_quote(FILE *f, const char *s);

/* 1 when s can stand as a make target or prerequisite: no space, tab,
 * newline, ':', '#', '$' or '%'; 0 otherwise. */
int am_make_safe(const char *s);

#endif
