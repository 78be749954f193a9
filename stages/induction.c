/* attnmix-induction: see am_stage_main (pipeline/stage/cli.c) and pipeline/stage/induction.h. */
#include "stage/stage.h"

int main(int argc, char **argv) { return am_stage_main("induction", argc, argv); }
