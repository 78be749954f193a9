/* attnmix-embed-mix: see am_stage_main (pipeline/stage_cli.c) and docs/architecture.md. */
#include "stages.h"

int main(int argc, char **argv) { return am_stage_main("embed-mix", argc, argv); }
