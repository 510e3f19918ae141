#!/usr/bin/env bash
# Trains one recipe over several seeds, one run after the other, the way the runs of docs/results.md were
# made, and prints per seed the final test accuracy, the wall time and the peak RSS, then the mean accuracy.
#
#   CONVSCOPE_DATA=/path/to/cifar-10-batches-bin bench/train-seeds.sh RECIPE SEED... [-- TRAIN OPTIONS]
#   e.g. bench/train-seeds.sh fast 0 1 2
#        bench/train-seeds.sh standard 0 -- --model resnet20 --epochs 30
#
# Checkpoints, metrics, logs and `/usr/bin/time -v` reports go to $OUT (default runs/RECIPE). The release
# binary is built first unless CONVSCOPE_BIN names one. OpenBLAS's
# core-type override is unset, as for the quick and fast runs of docs/results.md (GUIDE: it can halve
# OpenBLAS); the CPU, the date and the load are printed first, so a result can be quoted with them.
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: bench/train-seeds.sh standard|quick|fast SEED... [-- TRAIN OPTIONS]"
recipe=${1:?$usage}; shift
seeds=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do seeds+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#seeds[@]} -gt 0 ] || { echo "$usage" >&2; exit 2; }
data=${CONVSCOPE_DATA:?set CONVSCOPE_DATA to the CIFAR-10 folder (cifar-10-batches-bin)}
out=${OUT:-runs/$recipe}
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian: apt-get install time)" >&2; exit 1; }

if [ -n "${CONVSCOPE_BIN:-}" ]; then
    bin=$CONVSCOPE_BIN
else
    swift build -c release --product convscope
    bin=$PWD/.build/release/convscope
fi
mkdir -p "$out"
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores," \
     "$(grep -m1 -o 'avx512[a-z_0-9]*' /proc/cpuinfo >/dev/null && echo AVX-512 || echo 'no AVX-512'), load:$(uptime | sed 's/.*load average://')"

sum=0
for seed in "${seeds[@]}"; do
    name="$out/$recipe-s$seed"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/time -v -o "$name.time" \
        "$bin" train --recipe "$recipe" --data "$data" --seed "$seed" --checkpoint "$name.safetensors" "$@" | tee "$name.log"
    accuracy=$(grep -o 'final test accuracy [0-9.]*' "$name.log" | tail -n 1 | awk '{print $4}')
    wall=$(grep 'Elapsed (wall clock)' "$name.time" | awk '{print $NF}')
    rss=$(grep 'Maximum resident set size' "$name.time" | awk '{printf "%.0f MB", $NF / 1024}')
    echo "== seed $seed: $accuracy% in $wall wall, peak RSS $rss"
    echo "$seed $accuracy $wall $rss" >> "$out/summary.txt"
    sum=$(awk -v s="$sum" -v a="$accuracy" 'BEGIN { print s + a }')
done
echo "== $recipe over seeds ${seeds[*]}: mean $(awk -v s="$sum" -v n="${#seeds[@]}" 'BEGIN { printf "%.2f", s / n }')%"
