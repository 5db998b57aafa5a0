# Thin wrapper around CMake; see README.md.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build demo test sanitize clean

all: build

deps:
	@bash .ci/install-deps

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

demo: deps build
	@bash examples/run-demo $(BUILD)

# Long validations carry the ctest label `long`; LONG=1 runs them too. --no-tests=error: a label
# that matches nothing (renamed, mistyped) fails instead of passing empty.
LONG ?= 0
CTEST_SELECT = $(if $(filter 1,$(LONG)),,-LE long)

test: deps build
	cd $(BUILD) && ctest --output-on-failure --no-tests=error -j $(JOBS) $(CTEST_SELECT) $(CTEST_FLAGS)

# Unit tests and the config fuzz test under AddressSanitizer + UndefinedBehaviorSanitizer
# (optimised, with line tables: enough for the sanitizers' reports, and a quarter less compile
# time than full debug info); only what they run is built (the unit-test executables and the
# binary), not the benchmarks.
sanitize: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSETTLE_SANITIZE=ON -DSETTLE_WERROR=ON \
	  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
	cmake --build build-asan -j $(JOBS) --target unit_tests settle
	cd build-asan && ctest --output-on-failure --no-tests=error -j $(JOBS) -L 'unit|fuzz' -LE long

clean:
	rm -rf $(BUILD) build-asan
