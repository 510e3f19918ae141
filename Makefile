# ConvScope: `make run` builds in release mode and opens the app; `make test` runs every test.
# Both install the C libraries they need with apt-get when they are missing.

SWIFT ?= swift
BUILD_FLAGS ?= -c release
APT_PACKAGES = libncurses-dev libopenblas-dev libpng-dev pkg-config tmux
DATA_DEFAULT = ../shared/cifar10/cifar-10-batches-bin

.PHONY: run build test test-fast soak deps bench clean sanitize sanitize-thread sanitize-address fuzz fuzz-smoke completions check-docs

run: build
	./.build/release/convscope $(ARGS)

build: deps
	$(SWIFT) build $(BUILD_FLAGS) --product convscope

# The whole suite in release mode (the engine's tests train real networks), on the best kernel path the
# CPU runs; then the engine and app suites again on every other path it runs (CONVSCOPE_KERNELS), so a test
# tuned to one path's rounding fails here and not on a user's machine. Paths the CPU cannot run are
# reported as skipped. Data-dependent tests read CONVSCOPE_DATA; set here when the shared CIFAR-10 folder
# exists and nothing else set it. Every `swift test` runs under tools/strict-skips, which fails a test skipped
# for a reason off its allow-list when CONVSCOPE_STRICT_SKIPS=1 (.ci/run sets it when the data and the PyTorch
# reference are present; docs/testing.md).
KERNEL_PATHS = portable avx2 avx512
space := $(subst ,, )
STRICT = tools/strict-skips
PATH_SUITES = ConvKitTests|ConvScopeUITests

test: deps
	@if [ -z "$$CONVSCOPE_DATA" ] && [ -d "$(DATA_DEFAULT)" ]; then export CONVSCOPE_DATA="$$(cd $(DATA_DEFAULT) && pwd)"; fi; \
	$(SWIFT) build $(BUILD_FLAGS) --product convscope && \
	bin="$$(pwd)/.build/release/convscope" && \
	supported="$$($$bin bench --list-kernels)" && best="$$(echo "$$supported" | tail -n 1)" && \
	echo "== the whole suite on the $$best kernel path" && \
	CONVSCOPE_BIN="$$bin" $(STRICT) $(SWIFT) test $(BUILD_FLAGS) && \
	for path in $(KERNEL_PATHS); do \
		if ! echo "$$supported" | grep -qx "$$path"; then \
			echo "== SKIPPED LOUDLY: this CPU does not run the $$path kernel path; its tests did not run here"; \
		elif [ "$$path" != "$$best" ]; then \
			echo "== the engine and app suites again on the $$path kernel path (CONVSCOPE_KERNELS=$$path)"; \
			CONVSCOPE_KERNELS=$$path CONVSCOPE_BIN="$$bin" $(STRICT) $(SWIFT) test $(BUILD_FLAGS) --skip-build --filter '$(PATH_SUITES)' || exit 1; \
		fi; \
	done && \
	CONVSCOPE_BIN="$$bin" $(MAKE) --no-print-directory test-python

# The edit-test loop: a debug build, then the engine and app unit tests without the ones that train, start
# Python, compare every kernel path or take 1.4 s or more in debug (FAST_SKIP; new unit tests join on their own). Under a minute once
# built (docs/testing.md has the timing). Not a substitute for `make test`: no end-to-end tests, no
# comparisons with PyTorch, no training to an accuracy, one kernel path.
FAST_SKIP = TrainingTests|RecipeTests|CompressionTests|CompressionViewTests|PyTorchEqualityTests/testLivePyTorch|\
	CheckpointTests/testPyTorchLoadStateDict|HeatMapTests/testBilinearMatchesPyTorch|SyntheticDatasetTests/testDefaultSetIsBalanced|\
	SyntheticDatasetTests/testLoadThroughDataset|SyntheticDatasetTests/testSameSeedSameBytes|\
	LayerGradientTests/testWinogradMatchesTheDirectSums|DivergenceTests/testAHealthyRun|\
	DivergenceTests/testADivergenceInALaterEpoch|DivergenceTests/testLoweringTheRate|LayerFusionTests/testPresetsGiveTheSameScores|\
	DatasetDownloaderTests|KernelPathEqualityTests|MD5Tests/testFileDigestMatchesMd5sum|ColorPairCacheTests/testTheMemoryOfShadesStaysBounded
test-fast: deps
	$(SWIFT) build --build-tests && \
	$(STRICT) $(SWIFT) test --skip-build --filter 'ConvKitTests|ConvPresentTests|ConvScopeUITests' --skip '$(subst $(space),,$(FAST_SKIP))'

# The PyTorch side (python/convscope_torch): its own tests and its cross-checks against the convscope
# binary, with a Python that has torch, safetensors and numpy (CONVSCOPE_PYTHON, else ~/torchref/bin/python,
# see ../shared/bench/README.md); skipped loudly without one. (The two-process torchrun run and the
# byte-for-byte synthetic check are end-to-end tests of the Swift suite, PyTorchSideTests.)
TORCH_PYTHON ?= $(or $(CONVSCOPE_PYTHON),$(HOME)/torchref/bin/python)

.PHONY: test-python
test-python:
	@if ! [ -x "$(TORCH_PYTHON)" ] || ! "$(TORCH_PYTHON)" -c "import torch, safetensors, numpy" 2>/dev/null; then \
		echo "== SKIPPED LOUDLY: no Python with torch, safetensors and numpy at $(TORCH_PYTHON) (set CONVSCOPE_PYTHON); the PyTorch side's tests did not run"; \
	else \
		echo "== the PyTorch side's tests (python/tests) with $(TORCH_PYTHON)"; \
		CONVSCOPE_BIN="$${CONVSCOPE_BIN:-$$(pwd)/.build/release/convscope}" $(STRICT) "$(TORCH_PYTHON)" python/tests/run_tests.py; \
	fi

# The soak (docs/reliability.md): the app typed at by a seeded random stream of every key and resized for
# SOAK_SECONDS (default 600; the suite runs 120); SOAK_SEED replays a stream, SOAK_MODEL picks the model.
SOAK_SECONDS ?= 600
soak: deps
	$(SWIFT) build $(BUILD_FLAGS) --product convscope && \
	CONVSCOPE_BIN="$$(pwd)/.build/release/convscope" CONVSCOPE_SOAK_SECONDS=$(SOAK_SECONDS) CONVSCOPE_SOAK_SEED=$(SOAK_SEED) \
	CONVSCOPE_SOAK_MODEL=$(SOAK_MODEL) $(SWIFT) test $(BUILD_FLAGS) --filter SoakTests.testSoak

# Shell completion scripts from the binary (swift-argument-parser) into .build/completions; the README says
# where to install them for bash, zsh and fish.
completions: build
	@mkdir -p .build/completions && \
	./.build/release/convscope --generate-completion-script bash > .build/completions/convscope.bash && \
	./.build/release/convscope --generate-completion-script zsh > .build/completions/_convscope && \
	./.build/release/convscope --generate-completion-script fish > .build/completions/convscope.fish && \
	echo "wrote .build/completions/convscope.bash, _convscope (zsh) and convscope.fish"

# The README's and docs' links and anchors, and the flags the README names against the binary's help
# (also run by DocumentationTests in make test).
check-docs: build
	python3 tools/check-docs.py --bin .build/release/convscope

deps:
	@missing=""; \
	pkg-config --exists openblas 2>/dev/null || missing="$$missing libopenblas-dev"; \
	pkg-config --exists libpng 2>/dev/null || missing="$$missing libpng-dev"; \
	pkg-config --exists ncursesw 2>/dev/null || missing="$$missing libncurses-dev"; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	command -v tmux >/dev/null || missing="$$missing tmux"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
		$$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# The suite under ThreadSanitizer, then AddressSanitizer, each in its own build folder, with the end-to-end
# tests driving that sanitised binary (the app's threads in tmux too). ThreadSanitizer learns the order
# Swift's reference counts establish from a small preloaded shim (.sanitizers/swift_refcount_tsan.c says
# why); reports from system libraries we do not build would be suppressed narrowly in .sanitizers/ (each
# line saying why). Leak checking is off (LeakSanitizer needs a runtime the toolchain lacks here). Not part
# of `make test`: it takes several times as long.
# SANITIZE_TESTS narrows the run, e.g. SANITIZE_TESTS="--filter TUIEndToEndTests".
SANITIZE_TESTS ?=
SANITIZE_DATA = if [ -z "$$CONVSCOPE_DATA" ] && [ -d "$(DATA_DEFAULT)" ]; then export CONVSCOPE_DATA="$$(cd $(DATA_DEFAULT) && pwd)"; fi
sanitize: sanitize-thread sanitize-address

sanitize-thread: deps
	@$(SANITIZE_DATA); \
	$(SWIFT) build -c release --sanitize=thread --scratch-path .build-tsan --product convscope && \
	cc -O2 -shared -fPIC -o .build-tsan/swift_refcount_tsan.so .sanitizers/swift_refcount_tsan.c -ldl && \
	LD_PRELOAD="$$(pwd)/.build-tsan/swift_refcount_tsan.so" \
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$$(pwd)/.sanitizers/thread.supp" \
	CONVSCOPE_SANITIZER=thread CONVSCOPE_BIN="$$(pwd)/.build-tsan/release/convscope" \
	$(SWIFT) test -c release --sanitize=thread --scratch-path .build-tsan $(SANITIZE_TESTS)

sanitize-address: deps
	@$(SANITIZE_DATA); \
	$(SWIFT) build -c release --sanitize=address --scratch-path .build-asan --product convscope && \
	ASAN_OPTIONS="halt_on_error=1 detect_leaks=0" CONVSCOPE_SANITIZER=address \
	CONVSCOPE_BIN="$$(pwd)/.build-asan/release/convscope" \
	$(SWIFT) test -c release --sanitize=address --scratch-path .build-asan $(SANITIZE_TESTS)

# Our speed against PyTorch's reference in one run (needs ~/torchref, see ../shared/bench/README.md).
bench: build
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ./.build/release/convscope bench --model simple,resnet20,vgg --compare

# Fuzz every parser of untrusted input with libFuzzer (Fuzz/fuzz.sh, docs/reliability.md): an optimised
# build, then FUZZ_SECONDS per harness, one harness at a time (FUZZ_HARNESSES picks some: "png spec").
FUZZ_SECONDS ?= 180
fuzz: deps
	Fuzz/fuzz.sh build release && Fuzz/fuzz.sh run release $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

# CI's bounded smoke, under 2 minutes with its build: a quicker unoptimised build, then the seeds, the past
# crashes and a few seconds of new inputs per harness.
fuzz-smoke: deps
	Fuzz/fuzz.sh smoke

clean:
	rm -rf .build .build-tsan .build-asan .build-fuzz
