#!/usr/bin/env bash
# Measures, in one command and in the order issue 25 asks, every speed figure docs/performance.md quotes against
# PyTorch on this machine, so that a machine of another kind (AVX-512, avx512_bf16) can be measured by whoever
# sits at one: the CPU and its features first, then
#   1. `bench --compare` of simple, resnet20 and vgg in fp32 (training and inference, steps alone);
#   2. `bench --epoch --compare` of simple and resnet20 (whole epochs on CIFAR-10 with augmentation and the test
#      evaluation, against ../shared/bench/train_reference.py);
#   3. where the CPU has avx512_bf16, `bench --compare --precision bf16` (against PyTorch's bf16 autocast);
#      elsewhere a line saying why it is skipped;
#   4. `bench --kernels all` of resnet20, each kernel path this CPU runs.
# Each step's output goes to $OUT/NN-name.txt as well as to the terminal. Nothing else should run meanwhile:
# the figures are ratios measured in the same command, but a loaded machine moves them.
#
#   CONVSCOPE_DATA=/path/to/cifar-10-batches-bin bench/speed-report.sh
#
# The release binary is built first unless CONVSCOPE_BIN names one. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are
# unset for every command (they can halve OpenBLAS); tests and CI keep them.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${CONVSCOPE_DATA:?set CONVSCOPE_DATA to the CIFAR-10 folder (cifar-10-batches-bin)}
out=${OUT:-runs/speed-report-$(date -u +%Y%m%d-%H%M)}
mkdir -p "$out"

if [ -n "${CONVSCOPE_BIN:-}" ]; then
    bin=$CONVSCOPE_BIN
else
    swift build -c release --product convscope
    bin=$PWD/.build/release/convscope
fi

flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { [[ " $flags " == *" $1 "* ]]; }
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    field() { grep -m1 "^$1" /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'; }
    # A virtual machine's model name can be as vague as "AMD EPYC": the family and model say which generation.
    echo "cpu: $(field 'model name') (family $(field 'cpu family'), model $(field 'model')), $(nproc) cores"
    echo -n "features:"
    for feature in avx2 fma avx512f avx512bw avx512vl avx512_bf16; do has "$feature" && echo -n " $feature"; done
    echo
    echo "kernel paths: $("$bin" bench --list-kernels | tr '\n' ' ')"
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/00-machine.txt"

step() {
    local name=$1; shift
    echo
    echo "== $name: convscope $*" | tee "$out/$name.txt"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$bin" "$@" 2>&1 | tee -a "$out/$name.txt"
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/$name.txt"
}

step 01-bench-fp32 bench --compare --model simple,resnet20,vgg
step 02-epoch bench --epoch --compare --model simple,resnet20 --data "$data"
if has avx512_bf16; then
    step 03-bench-bf16 bench --compare --precision bf16 --model simple,resnet20,vgg
else
    echo | tee "$out/03-bench-bf16.txt"
    echo "== 03-bench-bf16: skipped, this CPU has no avx512_bf16 (the emulation's speed says nothing of the instruction's)" \
        | tee -a "$out/03-bench-bf16.txt"
fi
step 04-kernel-paths bench --kernels all --model resnet20
echo
echo "written to $out"
