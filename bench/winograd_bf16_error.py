#!/usr/bin/env python3
"""How much error bf16 operands add to a 3x3 convolution computed directly and through Winograd tiles.

Random channels-first tiles (normal, or ReLU'd normal) and He-scaled 3x3 weights, 64 -> 64 channels, 400 tiles;
the reference is the direct convolution in float64. For each tiling, the transformed input V = B^T d B and the
transformed weights U = G g G^T are rounded to fp32 or to bf16 (round to nearest even, as vcvtneps2bf16), the
products summed exactly, and the tile mapped back (A^T M A). Prints the largest error over the largest output and
the root-mean-square error over the root-mean-square output; "direct bf16" rounds the layer's own operands, as
the lowered bf16 product and PyTorch's bf16 autocast do. docs/performance.md quotes the output.

    python3 bench/winograd_bf16_error.py        # numpy only
"""
import numpy as np

rng = np.random.default_rng(0)
CHANNELS_IN, CHANNELS_OUT, TILES = 64, 64, 400


def bf16(x):
    """float32 values rounded to bf16 values (nearest, ties to even), still as float32."""
    bits = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
    return bits.astype(np.uint32).view(np.float32)


# Lavin & Gray's matrices: F(4x4, 3x3) on points 0, +-1, +-2, infinity; F(2x2, 3x3) on 0, +-1, infinity.
F4 = (np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0],
                [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], float),
      np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6],
                [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]], float),
      np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]], float))
F2 = (np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], float),
      np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]], float),
      np.array([[1, 1, 1, 0], [0, 1, -1, -1]], float))


def direct(d, g, m):
    out = np.zeros((d.shape[0], g.shape[0], m, m))
    for y in range(m):
        for x in range(m):
            out[:, :, y, x] = np.einsum('tcij,kcij->tk', d[:, :, y:y + 3, x:x + 3], g)
    return out


def report(name, y, reference):
    e = np.abs(y - reference)
    print(f'  {name:14s} max {e.max() / np.abs(reference).max():.2e}  rms {np.sqrt((e ** 2).mean() / (reference ** 2).mean()):.2e}')


for rectified in (False, True):
    for label, (BT, G, AT) in (('F(4x4, 3x3)', F4), ('F(2x2, 3x3)', F2)):
        n, m = BT.shape[0], AT.shape[0]
        d = rng.standard_normal((TILES, CHANNELS_IN, n, n))
        if rectified:
            d = np.maximum(d, 0)
        g = rng.standard_normal((CHANNELS_OUT, CHANNELS_IN, 3, 3)) * np.sqrt(2 / (9 * CHANNELS_IN))
        reference = direct(d, g, m)
        print(f'{label}, {"ReLU inputs" if rectified else "normal inputs"}:')
        V = np.einsum('ai,tcij,bj->tcab', BT, d, BT)
        U = np.einsum('ai,kcij,bj->kcab', G, g, G)
        for fmt, rounding in (('fp32', lambda a: a.astype(np.float32)), ('bf16', bf16)):
            M = np.einsum('tcab,kcab->tkab', rounding(V).astype(float), rounding(U).astype(float))
            report(f'winograd {fmt}', np.einsum('ia,tkab,jb->tkij', AT, M, AT), reference)
        report('direct bf16', direct(bf16(d).astype(float), bf16(g).astype(float), m), reference)
