# ConvScope: `make run` builds in release mode and opens the app; `make test` runs every test.
# Both install the C libraries they need with apt-get when they are missing.

SWIFT ?= swift
BUILD_FLAGS ?= -c release
APT_PACKAGES = libncurses-dev libopenblas-dev libpng-dev pkg-config tmux
DATA_DEFAULT = ../shared/cifar10/cifar-10-batches-bin

.PHONY: run build test deps bench clean fuzz fuzz-smoke

run: build
	./.build/release/convscope $(ARGS)

build: deps
	$(SWIFT) build $(BUILD_FLAGS) --product convscope

# The whole suite in release mode (the engine's tests train real networks). Data-dependent tests
# read CONVSCOPE_DATA; set here when the shared CIFAR-10 folder exists and nothing else set it.
test: deps
	@if [ -z "$$CONVSCOPE_DATA" ] && [ -d "$(DATA_DEFAULT)" ]; then export CONVSCOPE_DATA="$$(cd $(DATA_DEFAULT) && pwd)"; fi; \
	$(SWIFT) build $(BUILD_FLAGS) --product convscope && \
	CONVSCOPE_BIN="$$(pwd)/.build/release/convscope" $(SWIFT) test $(BUILD_FLAGS)

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
	rm -rf .build .build-fuzz
