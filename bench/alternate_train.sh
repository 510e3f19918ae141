#!/bin/bash
# Alternates two convscope binaries on the same two short training runs (three rounds) and prints each
# epoch's training seconds (from the metrics file), so that a build-flag or engine change is measured
# against the build before it under the same load. Synthetic data: no download needed.
#
#   bench/alternate_train.sh OLD_BIN NEW_BIN [OLD_RECIPE NEW_RECIPE]
#
# The recipe arguments name the airbench recipe in each binary (default airbench; `fast` before 2026-12-03).
set -euo pipefail
A=$1 B=$2 RA=${3:-airbench} RB=${4:-airbench}
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
seconds() { python3 -c "import json,sys; print(round(json.loads(open(sys.argv[1]).readline())['seconds'], 2))" "$1"; }
for round in 1 2 3; do
    for pair in "$A $RA old" "$B $RB new"; do
        set -- $pair
        rm -f "$D"/m.*
        "$1" train --data synthetic --model simple --epochs 1 --train-limit 3072 --batch 128 --seed 1 --checkpoint "$D/m.safetensors" >/dev/null 2>&1
        simple=$(seconds "$D/m.jsonl")
        rm -f "$D"/m.*
        "$1" train --data synthetic --recipe "$2" --model airbench --epochs 1 --train-limit 4000 --batch 500 --seed 1 --checkpoint "$D/m.safetensors" >/dev/null 2>&1
        airbench=$(seconds "$D/m.jsonl")
        echo "$3 simple ${simple}s airbench ${airbench}s load $(cut -d' ' -f1 /proc/loadavg)"
    done
done
