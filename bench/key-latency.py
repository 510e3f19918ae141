#!/usr/bin/env python3
"""Key latency of the app while the explain view computes slow methods (docs/explanations.md).

    bench/key-latency.py [--bin PATH] [--model simple] [--samples 15]

Runs the app in tmux at 80x24 on the synthetic set, opens the explain view (8) and the group given by
the number of M presses, then, while the bottom line says what is computing, presses ? (the help opens)
and ? again (it closes) and times each from send-keys to the changed screen, polling capture-pane.
Prints one line per phase: what was computing, samples, median and worst milliseconds.
"""
import argparse, os, statistics, subprocess, sys, tempfile, time

def tmux(*args):
    return subprocess.run(['tmux', '-L', SOCKET] + list(args), capture_output=True, text=True).stdout

def screen():
    return tmux('capture-pane', '-p', '-t', 'lat').split('\n')

def wait(pred, timeout=120):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        s = screen()
        if pred(s):
            return s
        time.sleep(0.003)
    raise SystemExit('timed out; screen:\n' + '\n'.join(screen()))

def timed(key, pred):
    start = time.monotonic()
    tmux('send-keys', '-t', 'lat', key)
    while not pred(screen()):
        time.sleep(0.001)
    return (time.monotonic() - start) * 1000

parser = argparse.ArgumentParser()
parser.add_argument('--bin', default=os.environ.get('CONVSCOPE_BIN', '.build/release/convscope'))
parser.add_argument('--model', default='simple')
parser.add_argument('--samples', type=int, default=15)
args = parser.parse_args()
SOCKET = 'keylat%d' % os.getpid()
folder = tempfile.mkdtemp()
tmux('new-session', '-d', '-s', 'lat', '-x', '80', '-y', '24', '-c', folder,
     f'{os.path.abspath(args.bin)} --data synthetic --model {args.model} --epochs 50 --checkpoint run.safetensors')
try:
    wait(lambda s: any('RUNNING' in l for l in s))
    helps = lambda s: any('this help' in l for l in s)
    # The baseline: training alone, the curves view.
    times = []
    for _ in range(args.samples):
        times.append(timed('?', helps))
        times.append(timed('?', lambda s: not helps(s)))
        time.sleep(0.05)
    print(f'training only: {len(times)} keys answered, median {statistics.median(times):.0f} ms, worst {max(times):.0f} ms')
    tmux('send-keys', '-t', 'lat', '8')
    wait(lambda s: any('Explain at' in l for l in s))
    for keys, phase, busy in [('M', 'Score-CAM', 'computing Score-CAM'), ('MM', 'RISE', 'computing RISE'),
                              ('m', 'sanity cascade of RISE', 'sanity check of RISE')]:
        for key in keys:
            tmux('send-keys', '-t', 'lat', key)
        wait(lambda s: any(busy in l for l in s), timeout=600)
        times = []
        for _ in range(args.samples):
            if not any(busy in l for l in screen()):
                break
            # ? opens the help and ? closes it (Escape would wait for ncurses' escape delay).
            times.append(timed('?', helps))
            times.append(timed('?', lambda s: not helps(s)))
            time.sleep(0.05)
        if times:
            print(f'{phase}: {len(times)} keys answered while it ran, median {statistics.median(times):.0f} ms, worst {max(times):.0f} ms')
finally:
    tmux('kill-server')
