/* The stage table (see table.h). Parts are cumulative: a stage depends on
 * what its inputs depend on, so checking an input's parts checks everything
 * upstream of it. */
#include <string.h>

#include "h5/schema.h"
#include "stage/table.h"

const am_stage_def am_stage_table[AM_N_STAGES] = {
    [AM_ST_TOKENIZE] = {"tokenize",
                        {-1, -1},
                        "tokens.h5",
                        AM_SCHEMA_TOKENS,
                        "models pairs padding",
                        1,
                        0,
                        1,
                        "tokenize the prompt pairs, pad and align them"},
    [AM_ST_EMBED_MIX] = {"embed-mix",
                         {AM_ST_TOKENIZE, -1},
                         "mix.h5",
                         AM_SCHEMA_MIX,
                         "models pairs padding alphas mix",
                         1,
                         1,
                         1,
                         "look up token embeddings and mix them per alpha"},
    [AM_ST_FORWARD] = {"forward",
                       {AM_ST_EMBED_MIX, -1},
                       "prefill.h5",
                       AM_SCHEMA_PREFILL,
                       "models pairs padding alphas mix capture backend cuda_compute",
                       1,
                       1,
                       1,
                       "prefill pass with capture of the prompt attention maps"},
    [AM_ST_GENERATE] = {"generate",
                        {AM_ST_EMBED_MIX, AM_ST_FORWARD},
                        "cube.h5",
                        AM_SCHEMA_CUBE,
                        "models pairs padding alphas mix capture backend cuda_compute generation seed",
                        1,
                        1,
                        1,
                        "batched generation with capture; writes the cube"},
    [AM_ST_INDUCTION] = {"induction",
                         {-1, -1},
                         "induction.h5",
                         AM_SCHEMA_INDUCTION,
                         "models seed backend cuda_compute",
                         0,
                         1,
                         0,
                         "measure every head's induction score: random tokens (drawn from the config's seed) repeated\n"
                         "  twice, the attention of the second copy's queries to the token after the first occurrence "
                         "of\n  their token"},
};

const char *const am_stage_unstamped_keys[] = {"experiment", "output_dir", "threads", NULL};

const am_stage_def *am_stage_def_find(const char *name) {
    for (int i = 0; i < AM_N_STAGES; i++)
        if (!strcmp(am_stage_table[i].name, name)) return &am_stage_table[i];
    return NULL;
}
