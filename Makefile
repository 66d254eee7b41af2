# The two commands a new machine needs: `make demo` and `make test`.
# Each runs scripts/setup first (idempotent: it installs only what is missing).
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo

.PHONY: all setup build test demo bench fuzz clean

all: build

setup:
	@scripts/setup

build: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null
	@ninja -C $(BUILD)

test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j2

# make demo UI=1: at the end, forja server and its web UI stay up on port $(UI_PORT) until Ctrl-C.
UI ?= 0
UI_PORT ?= 5000
demo: build
	@UI=$(UI) UI_PORT=$(UI_PORT) scripts/demo

bench: build
	@bench/run

fuzz: setup
	@fuzz/run

clean:
	rm -rf $(BUILD) build-fuzz
