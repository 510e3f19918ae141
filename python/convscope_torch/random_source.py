"""ConvScope's random generator (xoshiro256**, seeded through SplitMix64), many streams at once.

This is ``Sources/ConvKit/Tensor/RandomSource.swift`` in numpy: each lane of a ``RandomStreams`` is one
``RandomSource`` of the engine, and a lane produces exactly the numbers the engine's stream does. Lanes
advance together, or only where a mask says so, which is how data-dependent loops (a retried colour, a
random count of dots) stay in step with the engine's scalar code.

All arithmetic is on ``uint64`` arrays, whose overflow wraps as Swift's ``&+`` and ``&*`` do.
"""

from __future__ import annotations

import numpy as np

_U64 = np.uint64
_MASK64 = (1 << 64) - 1


def _rotl(x: np.ndarray, k: int) -> np.ndarray:
    return (x << _U64(k)) | (x >> _U64(64 - k))


def stream_seed(seed: int, stream: np.ndarray | int) -> np.ndarray:
    """The seed of ``RandomSource(seed:stream:)``: ``(seed ^ (stream &* K)) &+ stream``.

    (In Swift ``^`` and ``&+`` share a precedence and associate to the left.)
    """
    stream = np.asarray(stream, dtype=_U64)
    with np.errstate(over="ignore"):
        return (_U64(seed & _MASK64) ^ (stream * _U64(0xD1B54A32D192ED03))) + stream


class RandomStreams:
    """Independent xoshiro256** generators, one per lane, seeded like ``RandomSource(seed:)``."""

    def __init__(self, seeds: np.ndarray):
        x = np.array(seeds, dtype=_U64, copy=True)
        state = []
        with np.errstate(over="ignore"):
            for _ in range(4):  # SplitMix64, four times
                x = x + _U64(0x9E3779B97F4A7C15)
                z = x.copy()
                z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
                z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
                state.append(z ^ (z >> _U64(31)))
        self.s = np.stack(state)  # shape (4, lanes)

    @classmethod
    def for_streams(cls, seed: int, streams: np.ndarray) -> "RandomStreams":
        """The generators of ``RandomSource(seed: seed, stream: s)`` for each ``s`` in ``streams``."""
        return cls(stream_seed(seed, streams))

    @property
    def lanes(self) -> int:
        return self.s.shape[1]

    def subset(self, index: np.ndarray) -> "RandomStreams":
        """A copy of the lanes at ``index`` (write them back with ``assign``)."""
        out = RandomStreams.__new__(RandomStreams)
        out.s = self.s[:, index].copy()
        return out

    def assign(self, index: np.ndarray, other: "RandomStreams") -> None:
        """Puts ``other``'s lanes back at ``index``."""
        self.s[:, index] = other.s

    def next(self, mask: np.ndarray | None = None) -> np.ndarray:
        """The next 64-bit output of every lane; lanes outside ``mask`` (when given) do not advance
        (their output is then meaningless)."""
        s0, s1, s2, s3 = self.s
        with np.errstate(over="ignore"):
            result = _rotl(s1 * _U64(5), 7) * _U64(9)
        t = s1 << _U64(17)
        n2 = s2 ^ s0
        n3 = s3 ^ s1
        n1 = s1 ^ n2
        n0 = s0 ^ n3
        n2 = n2 ^ t
        n3 = _rotl(n3, 45)
        new = np.stack([n0, n1, n2, n3])
        if mask is None:
            self.s = new
        else:
            self.s = np.where(mask[None, :], new, self.s)
        return result

    def uniform(self, low=0.0, high=1.0, mask: np.ndarray | None = None) -> np.ndarray:
        """``RandomSource.uniform(low, high)`` in float32: ``low + (high - low) * u`` with
        ``u = Float(next() >> 40) / 2^24``, every operation rounded to float32 as Swift's ``Float`` is."""
        u = (self.next(mask) >> _U64(40)).astype(np.float32) * np.float32(1.0 / 16777216.0)
        low = np.asarray(low, dtype=np.float32)
        high = np.asarray(high, dtype=np.float32)
        return (low + (high - low) * u).astype(np.float32)

    def below(self, bound: int, mask: np.ndarray | None = None) -> np.ndarray:
        """``RandomSource.below(bound)``: ``next() % bound``."""
        return (self.next(mask) % _U64(bound)).astype(np.int64)
