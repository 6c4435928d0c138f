# The two commands of the README. Both install the Debian packages first (idempotent).
BUILD ?= build
JOBS  ?= $(shell nproc)

.PHONY: deps build demo test clean

deps:
	./scripts/install-deps

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

# The main job: check every bundled example and GPU profile, then run every check they declare.
demo: build
	$(BUILD)/batchproof check examples/*.bp gpu_profiles/*.bp
	$(BUILD)/batchproof verify examples/*.bp

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD)
