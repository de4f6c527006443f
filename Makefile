# Entry points. Each one installs what it needs (tools/install-deps.sh, idempotent), configures a
# Release build in $(BUILD) and builds it.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps configure build demo test bench fpga clean

all: build

deps:
	tools/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# The main job: a real QEMU run of a bundled workload captured, decoded by the golden model and
# by the cycle-accurate unit, checked: unit == golden == QEMU's own ground truth (results in
# $(BUILD)/demo/).
demo: build
	cd $(BUILD) && ./bin/xtu demo --out demo

# Every test: unit tests and end-to-end tests on live QEMU captures.
test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# Measurements for docs/benchmarks.md: live captures and the golden model, then the unit (the
# SystemC model) on those bundles, with the CAM sweep plot. The plot needs matplotlib: Debian's
# python3-matplotlib (tools/install-deps.sh), hence Debian's interpreter when there is one.
BENCH_PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)
bench: build
	python3 bench/capture_golden.py $(BUILD)
	$(BENCH_PYTHON) bench/unit_throughput.py $(BUILD) --plot docs/img/cam_sweep.png

# FPGA (iCE40, open flow): out-of-context builds of the RTL blocks written so far; one summary
# line per block and device (logic cells, Fmax) for docs/benchmarks.md.
fpga: build
	ctest --test-dir $(BUILD) -L fpga -V 2>&1 | grep -E '^[0-9]+: ooc |tests passed|Failed'

clean:
	rm -rf $(BUILD)
