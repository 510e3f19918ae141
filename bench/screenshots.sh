#!/usr/bin/env bash
# Makes the README's screenshots from a real run: the app trains the simple model on CIFAR-10 inside
# tmux, and after a few epochs the screen is captured with its colours (`capture-pane -e`) and
# rendered to PNG by bench/ansi2png.py, once at 200x60 (every panel) and once at 80x24 (tabs).
#
#   CONVSCOPE_DATA=/path/to/cifar-10-batches-bin bench/screenshots.sh
#
# Needs tmux, Python 3 with Pillow (installed with pip when missing) and the DejaVu fonts; for
# 24-bit colours the xterm-direct terminfo entry (Debian: ncurses-term), else the 256-colour palette.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CONVSCOPE_BIN:-$PWD/.build/release/convscope}
DATA=${CONVSCOPE_DATA:?set CONVSCOPE_DATA to the CIFAR-10 folder (cifar-10-batches-bin)}
EPOCHS_BEFORE_CAPTURE=${EPOCHS_BEFORE_CAPTURE:-3}
python3 -c "import PIL" 2>/dev/null || pip install -q pillow
WORK=$(mktemp -d)
SOCKET=screenshots-$$
trap 'tmux -L "$SOCKET" kill-server 2>/dev/null || true; rm -rf "$WORK"' EXIT
mkdir -p assets

screen() { tmux -L "$SOCKET" capture-pane -p -t app; }
wait_for() {
    for _ in $(seq 2400); do
        if screen | grep -q -- "$1"; then return 0; fi
        sleep 0.25
    done
    echo "timed out waiting for '$1'" >&2
    screen >&2
    exit 1
}
keys() { tmux -L "$SOCKET" send-keys -t app "$@"; sleep 0.4; }
shot() {
    sleep 1.5  # let the insight for the new selection arrive
    tmux -L "$SOCKET" capture-pane -e -p -t app > "$WORK/capture.ans"
    python3 bench/ansi2png.py "$WORK/capture.ans" "$1" --columns "$2" --rows "$3"
    echo "wrote $1"
}

tmux -L "$SOCKET" -f /dev/null new-session -d -s app -x 200 -y 60 -c "$WORK" \
    "env -u NO_COLOR TERM=xterm-256color COLORTERM=truecolor $BIN --data $DATA --model simple --train-limit 10000 --epochs 8 --checkpoint $WORK/run.safetensors; sleep 600" \
    </dev/null >/dev/null 2>&1
wait_for "epoch $EPOCHS_BEFORE_CAPTURE: "

# Large: every panel; the third convolution's ReLU, a test image the network gets right.
keys j j j j j j j j j j j j
keys Right Right Right
shot assets/tui-200x60.png 200 60

# Small: the same run at 80x24, where the panels become tabs; Grad-CAM at the last conv block.
tmux -L "$SOCKET" resize-window -t app -x 80 -y 24
keys 4
shot assets/tui-80x24.png 80 24

# The health timeline (docs/timeline.md) at 80x24, at the layer selected above.
keys 7
shot assets/health-80x24.png 80 24
keys q n
