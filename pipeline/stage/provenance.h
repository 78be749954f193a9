/* Provenance of stage files: attributes and the fingerprint that decides what is up to date. */
#ifndef AM_PROVENANCE_H
#define AM_PROVENANCE_H

#include "stage/stage.h"
#include <hdf5.h>

/* Write the provenance attributes every stage file carries. */
int am_prov_write(hid_t f, const am_stage *s, const char *schema, const char *fingerprint, am_err *e);
/* Returns 1 if path exists, has `schema` and its fingerprint attribute (its
 * content stamp, stage/stamp.h) equals fingerprint; 0 otherwise. */
int am_prov_up_to_date(const char *path, const char *schema, const char *fingerprint);
/* The stage's skip: 1 when not forced and out_path is up to date with fp
 * (am_prov_up_to_date), saying so on stderr unless quiet; else 0. */
int am_stage_up_to_date(const am_stage *s, const char *stage, const char *out_path, const char *schema, const char *fp);
/* Read a file's fingerprint attribute (schema checked). */
int am_prov_fingerprint(const char *path, const char *schema, char out[17], am_err *e);
/* fingerprint = hash of the stage name and the given strings. */
void am_prov_hash(char out[17], const char *stage, const char *const *parts, int n);

#endif
