/* Schema names of the stage files, stored in each file's "schema" attribute. */
#ifndef AM_SCHEMA_H
#define AM_SCHEMA_H

#define AM_SCHEMA_TOKENS "attnmix.tokens/1"
#define AM_SCHEMA_MIX "attnmix.mix/1"
#define AM_SCHEMA_PREFILL "attnmix.prefill/1"
#define AM_SCHEMA_CUBE "attnmix.cube/1"
#define AM_SCHEMA_INDUCTION "attnmix.induction/1"
#define AM_SCHEMA_ANALYSIS "attnmix.analysis/1"

#endif
