#!/usr/bin/env bash
# Training speed with the TUI open against headless `convscope train`: the same model, data and
# epoch, in alternating runs (the machine may be shared). Prints each run's images/s (the epoch's
# training throughput, which both report the same way) and the TUI / train ratio of the means.
#
#   bench/tui-speed.sh                      # simple model, synthetic data, 3 rounds, both at 200x60
#   MODEL=tiny ROUNDS=5 SIZE=100x30 bench/tui-speed.sh
#
# Both runs live in a tmux window of the same size and are read the same way (a look at the screen every
# POLL seconds), so the terminal's work and the reading cost both sides alike: polling only the app, four
# times a second, cost training about 5% by itself (docs/performance.md, "The app's own cost").
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CONVSCOPE_BIN:-$PWD/.build/release/convscope}
MODEL=${MODEL:-simple}
ROUNDS=${ROUNDS:-3}
SIZE=${SIZE:-200x60}
POLL=${POLL:-1}
WORK=$(mktemp -d)
SOCKET=tui-speed-$$
trap 'tmux -L "$SOCKET" kill-server 2>/dev/null || true; rm -rf "$WORK"' EXIT

# Runs `$1` in a fresh tmux window until a line matching `$2` shows, then prints the number before "img/s".
rate_in_tmux() {
    tmux -L "$SOCKET" -f /dev/null new-session -d -s bench -x "${SIZE%x*}" -y "${SIZE#*x}" -c "$WORK" \
        "env -u NO_COLOR TERM=xterm-256color $1; sleep 600" </dev/null >/dev/null 2>&1
    local line="" deadline=$((SECONDS + 1200))
    while [ -z "$line" ] && [ "$SECONDS" -lt "$deadline" ]; do
        sleep "$POLL"
        line=$(tmux -L "$SOCKET" capture-pane -p -J -t bench | grep -o "$2" || true)
    done
    tmux -L "$SOCKET" send-keys -t bench q n
    sleep 0.5
    tmux -L "$SOCKET" kill-server
    [ -n "$line" ] || { echo "bench/tui-speed.sh: no '$2' on the screen within 20 minutes" >&2; exit 1; }
    echo "$line" | grep -o '[0-9,]* img/s' | tr -d ', img/s'
}

train_rate() {
    rate_in_tmux "$BIN train --model $MODEL --data synthetic --epochs 1 --checkpoint $WORK/train.safetensors" \
        'epoch 1/1  train.* [0-9]* img/s'
}

tui_rate() {
    rate_in_tmux "$BIN --model $MODEL --data synthetic --epochs 1 --checkpoint $WORK/tui.safetensors" \
        'epoch 1: [0-9,]* img/s'
}

train_total=0; tui_total=0
for round in $(seq "$ROUNDS"); do
    t=$(train_rate); u=$(tui_rate)
    echo "round $round: train $t img/s, tui ($SIZE) $u img/s"
    train_total=$((train_total + t)); tui_total=$((tui_total + u))
done
awk -v a="$tui_total" -v b="$train_total" -v n="$ROUNDS" -v m="$MODEL" \
    'BEGIN { printf "model %s: train %.0f img/s, tui %.0f img/s, ratio %.3f\n", m, b / n, a / n, a / b }'
