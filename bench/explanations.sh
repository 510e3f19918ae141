#!/bin/sh
# Time of one explanation map per method, averaged over test images: the `seconds_per_map` that
# `convscope faithfulness --json` measures around each method's call alone (scoring excluded).
#
# usage: bench/explanations.sh CHECKPOINT [IMAGES] [LAYER]
#   CHECKPOINT  a .safetensors checkpoint (simple, resnet20, ...)
#   IMAGES      test images to average over (default 5); data from $CONVSCOPE_DATA
# Prints one line per method: method, milliseconds per map. OpenBLAS's machine-wide core-type settings are
# unset, as for every benchmark here (docs/performance.md).
set -eu
checkpoint=${1:?usage: bench/explanations.sh CHECKPOINT [IMAGES] [LAYER]}
images=${2:-5}
bin=${CONVSCOPE_BIN:-$(dirname "$0")/../.build/release/convscope}
layer_option=""
if [ -n "${3:-}" ]; then layer_option="--layer $3"; fi
# shellcheck disable=SC2086
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$bin" faithfulness --checkpoint "$checkpoint" --images "$images" \
    --methods all $layer_option --json 2>/dev/null |
python3 -c '
import json, sys
table = json.load(sys.stdin)
print("# %s, %d images, layer %s" % (table["spec"], table["images"], table["layer"]))
for row in table["rows"]:
    if "seconds_per_map" in row:
        print("%-22s %9.1f ms" % (row["method"], 1000 * row["seconds_per_map"]))
'
