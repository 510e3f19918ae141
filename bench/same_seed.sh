#!/bin/bash
# Same seed, same numbers: trains short runs with a convscope binary and prints, per checkpoint, a hash of
# every tensor's bytes and of the per-epoch metrics without wall-clock fields. Run it with the binary before
# and after a refactor and diff the two outputs: any change in training shows.
#
#   bench/same_seed.sh BIN OUTDIR [AIRBENCH_RECIPE_NAME]    (the name was `fast` before 2026-12-03)
#
# Runs: the standard recipe on the tiny preset (synthetic data); adamw + cosine + rotation + colour jitter +
# normal init on a small spec; the airbench and quick recipes on the tiny preset (CIFAR-10 from
# $CONVSCOPE_DATA, 512 images); and resumes of the three version-1 checkpoints in
# Tests/ConvKitTests/Fixtures/config-v1 to their second epoch. A few minutes on 2 cores.
set -euo pipefail
B=$(realpath "$1"); D=$2; AIRBENCH=${3:-airbench}
DATA=${CONVSCOPE_DATA:?set CONVSCOPE_DATA to the CIFAR-10 binary folder}
here=$(cd "$(dirname "$0")" && pwd); fixtures="$here/../Tests/ConvKitTests/Fixtures/config-v1"
mkdir -p "$D"; cd "$D"; rm -f ./*.safetensors ./*.jsonl
M=conv8,bn,relu,maxpool,gap,fc10
run() { "$B" train "$@" >/dev/null 2>&1 || echo "failed: $*" >&2; }
run --data synthetic --model tiny --epochs 2 --train-limit 512 --seed 3 --checkpoint std.safetensors
run --data synthetic --model $M --epochs 2 --batch 32 --train-limit 256 --seed 4 --optimizer adamw --schedule cosine \
    --rotate 10 --color-jitter 0.2 --initializer normal:0.05 --checkpoint adamw.safetensors
run --data "$DATA" --recipe "$AIRBENCH" --model tiny --epochs 2 --batch 128 --train-limit 512 --seed 5 --checkpoint fast.safetensors
run --data "$DATA" --recipe quick --model tiny --epochs 2 --batch 64 --train-limit 512 --seed 7 --checkpoint quick.safetensors
for f in fast quick standard; do
    cp "$fixtures/$f-v1.safetensors" "r-$f.safetensors"
    run --data synthetic --resume --checkpoint "r-$f.safetensors" --epochs 2
done
python3 "$here/checkpoint_digest.py" ./*.safetensors
