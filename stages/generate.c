/* attnmix-generate: see am_stage_main (pipeline/stage/cli.c) and docs/architecture.md. */
#include "stage/stage.h"

int main(int argc, char **argv) { return am_stage_main("generate", argc, argv); }
