# ConvScope: `make run` builds in release mode and opens the app; `make test` runs every test.
# Both install the C libraries they need with apt-get when they are missing.

SWIFT ?= swift
BUILD_FLAGS ?= -c release
APT_PACKAGES = libncurses-dev libopenblas-dev libpng-dev pkg-config tmux
DATA_DEFAULT = ../shared/cifar10/cifar-10-batches-bin

.PHONY: run build test soak deps bench clean

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

# The soak (docs/reliability.md): the app typed at by a seeded random stream of every key and resized for
# SOAK_SECONDS (default 600; the suite runs 60); SOAK_SEED replays a stream, SOAK_MODEL picks the model.
SOAK_SECONDS ?= 600
soak: deps
	$(SWIFT) build $(BUILD_FLAGS) --product convscope && \
	CONVSCOPE_BIN="$$(pwd)/.build/release/convscope" CONVSCOPE_SOAK_SECONDS=$(SOAK_SECONDS) CONVSCOPE_SOAK_SEED=$(SOAK_SEED) \
	CONVSCOPE_SOAK_MODEL=$(SOAK_MODEL) $(SWIFT) test $(BUILD_FLAGS) --filter SoakTests.testSoak

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

clean:
	rm -rf .build
