"""ConvScope's synthetic image set, drawn exactly as the engine draws it.

Ten classes of procedurally drawn 32 x 32 colour images (disc, square, triangle, ring, three kinds of
stripes, checkerboard, cross, dots): the class is the shape, everything else (colours, gradient,
position, size, rotation, noise) is random. This module reproduces ``SyntheticDataset.swift`` byte for
byte: image ``i`` of split ``s`` draws from ``RandomSource(seed, stream: (s + 1) << 40 | i)``, in the
same order, with every value rounded to float32 where the engine's ``Float`` arithmetic rounds. So a
PyTorch run on ``--data synthetic`` sees the very images ConvScope trains and tests on, and results on
it are comparable.

Two details matter for the bytes: Swift's ``Float.pi`` is pi rounded toward zero (``0x40490FDA``, not
numpy's ``0x40490FDB``), and ``cos``/``sin`` of a ``Float`` are the C library's ``cosf``/``sinf``, which
are called here too (through ctypes) when the C library has them.

Run as a program it writes a split in CIFAR-10's binary record format (label byte + 3072 planar RGB
bytes), which ConvScope's tests read back to compare with their own drawing.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import sys

import numpy as np

from .random_source import RandomStreams

CLASS_NAMES = [
    "disc", "square", "triangle", "ring", "h-stripes", "v-stripes", "d-stripes", "checkerboard", "cross", "dots",
]
DEFAULT_TRAIN_COUNT = 10_000
DEFAULT_TEST_COUNT = 2_000
SIDE = 32
PLANE = SIDE * SIDE
BYTES_PER_IMAGE = 3 * PLANE

F = np.float32
#: Swift's ``Float.pi``: pi rounded toward zero.
FLOAT_PI = np.array([0x40490FDA], dtype=np.uint32).view(np.float32)[0]
_SIDE_F = F(SIDE)
_HALF_SIDE = F(SIDE / 2)


def _load_libm():
    name = ctypes.util.find_library("m")
    if name is None:
        return None
    try:
        libm = ctypes.CDLL(name)
        for fn in (libm.cosf, libm.sinf):
            fn.restype = ctypes.c_float
            fn.argtypes = [ctypes.c_float]
        return libm
    except (OSError, AttributeError):
        return None


_LIBM = _load_libm()


def _cos(x: np.ndarray) -> np.ndarray:
    """``cosf`` of each float32, as the engine's ``cos(Float)`` computes it."""
    x = np.asarray(x, dtype=F)
    if _LIBM is None:  # correctly rounded from double: equal to cosf except in rare halfway cases
        return np.cos(x.astype(np.float64)).astype(F)
    return np.array([_LIBM.cosf(float(v)) for v in x.ravel()], dtype=F).reshape(x.shape)


def _sin(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=F)
    if _LIBM is None:
        return np.sin(x.astype(np.float64)).astype(F)
    return np.array([_LIBM.sinf(float(v)) for v in x.ravel()], dtype=F).reshape(x.shape)


def _fill(d: np.ndarray) -> np.ndarray:
    """Coverage of a pixel whose centre is ``d`` pixels outside the edge: ``min(max(0.5 - d, 0), 1)``."""
    return np.minimum(np.maximum(F(0.5) - d, F(0)), F(1))


def _stripe(u: np.ndarray, period: np.ndarray) -> np.ndarray:
    """1 on the first half of each period of ``u``, 0 on the second, anti-aliased (``stripe`` in Swift)."""
    t = u - period * (np.trunc(u / period + F(64)).astype(F) - F(64))
    quarter = period / F(4)
    d = np.abs(t - quarter)
    return _fill(np.minimum(d, period - d) - quarter)


def _colour(rng: RandomStreams, mask=None):
    return tuple(rng.uniform(F(0), F(255), mask) for _ in range(3))


def _distance(a, b) -> np.ndarray:
    dr, dg, db = a[0] - b[0], a[1] - b[1], a[2] - b[2]
    return np.sqrt(dr * dr + dg * dg + db * db)


def _centre(rng: RandomStreams, margin: np.ndarray):
    m = np.minimum(margin, _HALF_SIDE)
    cx = rng.uniform(m, _SIDE_F - m)
    cy = rng.uniform(m, _SIDE_F - m)
    return cx, cy


def _patch(rng: RandomStreams):
    """A random rectangle of at least 16 x 16 pixels: the parameters of its coverage."""
    w = rng.uniform(F(16), F(30))
    h = rng.uniform(F(16), F(30))
    x0 = rng.uniform(F(1), F(31) - w)
    y0 = rng.uniform(F(1), F(31) - h)
    return x0 + w / F(2), y0 + h / F(2), w, h


def _patch_coverage(patch, x, y):
    cx, cy, w, h = (p[:, None, None] for p in patch)
    return _fill(np.maximum(np.abs(x - cx) - w / F(2), np.abs(y - cy) - h / F(2)))


def _coverage(shape: int, rng: RandomStreams) -> np.ndarray:
    """Draws the shape's parameters (in the engine's order) and returns its coverage, (lanes, 32, 32)."""
    n = rng.lanes
    coords = np.arange(SIDE, dtype=F) + F(0.5)
    x = coords[None, None, :]
    y = coords[None, :, None]

    def col(v):
        return v[:, None, None]

    if shape == 0:  # filled disc
        r = rng.uniform(F(5), F(11))
        cx, cy = _centre(rng, r + F(1))
        dx, dy = x - col(cx), y - col(cy)
        return _fill(np.sqrt(dx * dx + dy * dy) - col(r))
    if shape == 1:  # filled square, slightly rotated
        h = rng.uniform(F(5), F(10))
        cx, cy = _centre(rng, h + F(1))
        angle = rng.uniform(F(-0.35), F(0.35))
        c, s = col(_cos(angle)), col(_sin(angle))
        dx, dy = x - col(cx), y - col(cy)
        u = dx * c + dy * s
        v = dy * c - dx * s
        return _fill(np.maximum(np.abs(u), np.abs(v)) - col(h))
    if shape == 2:  # filled equilateral triangle at any rotation
        radius = rng.uniform(F(7.5), F(13))
        cx, cy = _centre(rng, radius * F(0.75) + F(1))
        turn = rng.uniform(F(0), F(2) * FLOAT_PI)
        dx, dy = x - col(cx), y - col(cy)
        d = None
        for k in range(3):
            a = (turn + FLOAT_PI / F(3)) + F(k) * F(2) * FLOAT_PI / F(3)
            side = dx * col(_cos(a)) + dy * col(_sin(a))
            d = side if d is None else np.maximum(d, side)
        return _fill(d - col(radius / F(2)))
    if shape == 3:  # ring
        r = rng.uniform(F(7), F(12.5))
        thickness = rng.uniform(F(2), F(3.5))
        cx, cy = _centre(rng, r + F(1))
        middle = r - thickness / F(2)
        dx, dy = x - col(cx), y - col(cy)
        return _fill(np.abs(np.sqrt(dx * dx + dy * dy) - col(middle)) - col(thickness / F(2)))
    if shape in (4, 5, 6):  # horizontal, vertical or diagonal stripes filling a patch
        period = rng.uniform(F(5.5) if shape == 6 else F(4.5), F(8))
        phase = rng.uniform(F(0), period)
        patch = _patch(rng)
        slope = np.where(rng.uniform() < F(0.5), F(1), F(-1)).astype(F)
        if shape == 4:
            u = np.broadcast_to(y, (n, SIDE, SIDE))
        elif shape == 5:
            u = np.broadcast_to(x, (n, SIDE, SIDE))
        else:
            u = (x + col(slope) * y) * F(0.70710678)
        return _stripe(u + col(phase), col(period)) * _patch_coverage(patch, x, y)
    if shape == 7:  # checkerboard filling a patch
        cell = rng.uniform(F(3), F(6))
        ox = rng.uniform(F(0), F(2) * cell)
        oy = rng.uniform(F(0), F(2) * cell)
        patch = _patch(rng)
        period = col(F(2) * cell)
        a = _stripe(x + col(ox), period)
        b = _stripe(y + col(oy), period)
        return (a * (F(1) - b) + (F(1) - a) * b) * _patch_coverage(patch, x, y)
    if shape == 8:  # plus-shaped cross, slightly rotated
        arm = rng.uniform(F(7), F(13))
        half = rng.uniform(F(1.5), F(3))
        cx, cy = _centre(rng, arm + F(1))
        angle = rng.uniform(F(-0.25), F(0.25))
        c, s = col(_cos(angle)), col(_sin(angle))
        dx, dy = x - col(cx), y - col(cy)
        u = np.abs(dx * c + dy * s)
        v = np.abs(dy * c - dx * s)
        arm, half = col(arm), col(half)
        return _fill(np.minimum(np.maximum(u - arm, v - half), np.maximum(u - half, v - arm)))
    # scattered small dots: 7 to 14 of them
    count = 7 + rng.below(8)
    radius = rng.uniform(F(1.3), F(2.2))
    nearest = np.full((n, SIDE, SIDE), np.finfo(F).max, dtype=F)
    for k in range(14):
        live = count > k
        px = rng.uniform(F(2.5), F(29.5), live)
        py = rng.uniform(F(2.5), F(29.5), live)
        dx, dy = x - col(px), y - col(py)
        d2 = dx * dx + dy * dy
        nearest = np.where(live[:, None, None], np.minimum(nearest, d2), nearest)
    return _fill(np.sqrt(nearest) - col(radius))


def _draw_parameters(shape: int, rng: RandomStreams) -> dict:
    """Draws everything of ``rng.lanes`` images of class ``shape`` except the per-pixel noise, in the
    engine's order: background, foreground, the shape's coverage, the noise level."""
    back0 = _colour(rng)
    gradient = rng.uniform() < F(0.5)
    shifts = [rng.uniform(F(-70), F(70), gradient) for _ in range(3)]
    back1 = tuple(np.where(gradient, np.minimum(np.maximum(b + s, F(0)), F(255)), b).astype(F) for b, s in zip(back0, shifts))
    angle = rng.uniform(F(0), F(2) * FLOAT_PI, gradient)
    gdx = np.where(gradient, _cos(angle) / _SIDE_F, F(0)).astype(F)
    gdy = np.where(gradient, _sin(angle) / _SIDE_F, F(0)).astype(F)
    back_mean = tuple((a + b) / F(2) for a, b in zip(back0, back1))

    # The foreground colour, redrawn (up to 16 times) until it stands out from the background.
    fore = _colour(rng)
    for _ in range(16):
        retry = _distance(fore, back_mean) < F(110)
        if not retry.any():
            break
        fresh = _colour(rng, retry)
        fore = tuple(np.where(retry, f, o).astype(F) for f, o in zip(fresh, fore))
    faint = _distance(fore, back_mean) < F(110)
    fore = tuple(np.where(faint, F(255) - m, f).astype(F) for f, m in zip(fore, back_mean))

    coverage = _coverage(shape, rng)
    noise = rng.uniform(F(3), F(14))
    return dict(back0=back0, back1=back1, gdx=gdx, gdy=gdy, fore=fore, coverage=coverage, noise=noise)


def _compose(p: dict, bits: np.ndarray) -> np.ndarray:
    """The images of drawn parameters ``p`` and per-pixel draws ``bits`` (lanes, 32, 32):
    (lanes, 3, 32, 32) uint8, planar RGB."""
    n = bits.shape[0]
    coords = np.arange(SIDE, dtype=F) + F(0.5)
    px = coords[None, None, :]
    py = coords[None, :, None]
    t = (px - _HALF_SIDE) * p["gdx"][:, None, None] + (py - _HALF_SIDE) * p["gdy"][:, None, None] + F(0.5)
    t = np.minimum(np.maximum(t, F(0)), F(1))
    m = p["coverage"]
    unit = F(1.0 / 1048576)
    noise = p["noise"][:, None, None]
    out = np.empty((n, 3, SIDE, SIDE), dtype=np.uint8)
    for c in range(3):
        b0, b1, fc = (p[k][c][:, None, None] for k in ("back0", "back1", "fore"))
        value = (b0 + (b1 - b0) * t) * (F(1) - m) + fc * m
        # Three noise values in [-1, 1) from one 64-bit draw, 21 bits each.
        jitter = ((bits >> np.uint64(21 * c)) & np.uint64(0x1FFFFF)).astype(F) * unit - F(1)
        value = value + noise * jitter
        # UInt8(min(max(v, 0), 255) + 0.5): round half up, the addition itself rounded to float32.
        out[:, c] = np.trunc(np.minimum(np.maximum(value, F(0)), F(255)) + F(0.5)).astype(np.uint8)
    return out


def images(seed: int, split: int, count: int, chunk: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """``count`` images of split ``split`` (0 training, 1 test; others are further independent sets).

    Returns ``(pixels, labels)``: uint8 ``(count, 3, 32, 32)`` planar RGB as CIFAR-10 keeps them, and
    int64 labels cycling 0..9 (so every prefix of ten images is balanced).
    """
    count = max(int(count), 0)
    labels = np.arange(count, dtype=np.int64) % len(CLASS_NAMES)
    pixels = np.empty((count, 3, SIDE, SIDE), dtype=np.uint8)
    for start in range(0, count, chunk):
        index = np.arange(start, min(start + chunk, count), dtype=np.uint64)
        streams = (np.uint64(split + 1) << np.uint64(40)) | index
        rng = RandomStreams.for_streams(seed, streams)
        drawn = []
        for shape in range(len(CLASS_NAMES)):
            lanes = np.nonzero(labels[start:start + len(index)] == shape)[0]
            if len(lanes) == 0:
                continue
            group = rng.subset(lanes)
            drawn.append((lanes, _draw_parameters(shape, group)))
            rng.assign(lanes, group)
        # Then every image's 1024 per-pixel draws, row by row, all lanes at once.
        bits = np.empty((PLANE, len(index)), dtype=np.uint64)
        for p in range(PLANE):
            bits[p] = rng.next()
        bits = bits.T.reshape(len(index), SIDE, SIDE)
        for lanes, parameters in drawn:
            pixels[start + lanes] = _compose(parameters, bits[lanes])
    return pixels, labels


def generate(seed: int = 0, train_count: int = DEFAULT_TRAIN_COUNT, test_count: int = DEFAULT_TEST_COUNT):
    """The engine's ``SyntheticDataset.generate(seed:)``: ``((train_x, train_y), (test_x, test_y))``."""
    return images(seed, 0, train_count), images(seed, 1, test_count)


def write_cifar_binary(path: str, pixels: np.ndarray, labels: np.ndarray) -> None:
    """Writes images in CIFAR-10's binary format: per image a label byte and 3072 planar RGB bytes."""
    records = np.empty((len(labels), 1 + BYTES_PER_IMAGE), dtype=np.uint8)
    records[:, 0] = labels
    records[:, 1:] = pixels.reshape(len(labels), -1)
    records.tofile(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m convscope_torch.synthetic",
        description="Draw ConvScope's synthetic images and write them in CIFAR-10's binary format.")
    parser.add_argument("--seed", type=int, default=0, help="the data seed (ConvScope's --data synthetic uses 0)")
    parser.add_argument("--split", choices=["train", "test"], default="train")
    parser.add_argument("--count", type=int, help="number of images (default: 10000 train, 2000 test)")
    parser.add_argument("--out", required=True, help="output file (.bin)")
    args = parser.parse_args(argv)
    if args.count is not None and args.count < 0:
        parser.error(f"--count must not be negative, not {args.count}")
    split = 0 if args.split == "train" else 1
    count = args.count if args.count is not None else (DEFAULT_TRAIN_COUNT if split == 0 else DEFAULT_TEST_COUNT)
    pixels, labels = images(args.seed, split, count)
    write_cifar_binary(args.out, pixels, labels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
