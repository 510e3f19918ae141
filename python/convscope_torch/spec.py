"""ConvScope's model spec language: a comma-separated list of layer tokens, or a preset name.

The grammar is ``Sources/ConvKit/Model/ModelSpec.swift``'s, token for token:

=====================================================  ==============================================
token                                                  layer
=====================================================  ==============================================
``conv<C>[k<K>][s<S>][p<P>]``                          Conv2d to C channels, kernel K (3), stride S (1),
                                                       padding P (K/2, at most K/2); bias unless ``bn``
                                                       follows
``bn``                                                 BatchNorm2d (eps 1e-5, momentum 0.1)
``relu``, ``leakyrelu[<slope>]``, ``elu[<alpha>]``,    activations (slope 0.01, alpha 1; GELU exact)
``selu``, ``swish``, ``gelu``, ``sigmoid``, ``tanh``
``maxpool[<K>][s<S>]``, ``avgpool[<K>][s<S>]``         pooling, kernel K (2), stride S (= K)
``gap``, ``flatten``                                   global average pool to a vector; flatten
``dropout[<p>]``, ``dropout2d[<p>]``                   dropout of elements or whole channels (p 0.5)
``fc<N>``                                              Linear to N features (flattens a map itself)
``res<C>[s<S>][m<M>]``                                 basic residual block, C channels, stride S (1),
                                                       first convolution M wide (C)
=====================================================  ==============================================

Layers are named ``<kind><n>``, ``n`` counting that kind from 1 (``conv1``, ``relu3``, ``res2``), the
names under which a checkpoint stores their tensors. Errors name the token and the reason in the
engine's words, for example ``bad model spec at token 3 'conv': conv needs an output channel count,
as in conv32``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Union

import numpy as np

#: Layer kinds, in the engine's order (``LayerKind``).
KINDS = ["conv", "bn", "relu", "leakyrelu", "elu", "selu", "swish", "gelu", "sigmoid", "tanh",
         "maxpool", "avgpool", "gap", "flatten", "dropout", "dropout2d", "fc", "res"]
ACTIVATIONS = {"relu", "leakyrelu", "elu", "selu", "swish", "gelu", "sigmoid", "tanh"}

#: The presets, name to spec (``ModelSpec.presets``).
PRESETS = {
    "tiny": "conv16,relu,maxpool,conv32,relu,maxpool,conv64,relu,gap,fc10",
    "simple": "conv32,bn,relu,conv32,bn,relu,maxpool,conv64,bn,relu,conv64,bn,relu,maxpool,conv128,bn,relu,gap,fc10",
    "vgg": "conv64,bn,relu,conv64,bn,relu,maxpool,conv128,bn,relu,conv128,bn,relu,maxpool,"
           "conv256,bn,relu,conv256,bn,relu,maxpool,flatten,fc256,relu,dropout0.5,fc10",
    "resnet20": "conv16,bn,relu,res16,res16,res16,res32s2,res32,res32,res64s2,res64,res64,gap,fc10",
    # After airbench: a whitening conv, then conv-pool-bn-relu-conv-bn-relu blocks of 32, 64, 128.
    "quick": "conv32,relu,conv32,maxpool,bn,relu,conv32,bn,relu,conv64,maxpool,bn,relu,conv64,bn,relu,"
            "conv128,maxpool,bn,relu,conv128,bn,relu,gap,fc10",
    # airbench's 94% network: a 2x2 whitening conv, blocks of 64, 256, 256 with GELU on maps 31, 15, 7, 3.
    "airbench": "conv24k2p0,gelu,conv64,maxpool,bn,gelu,conv64,bn,gelu,conv256,maxpool,bn,gelu,conv256,bn,gelu,"
                "conv256,maxpool,bn,gelu,conv256,bn,gelu,maxpool3,flatten,fc10",
}
DEFAULT_PRESET = "simple"

_KINDS_BY_LENGTH = sorted(KINDS, key=len, reverse=True)

#: The engine's limits (``ModelSpec.maximumTextLength``, ``maximumWidth``, ``maximumWindow``): longer specs,
#: larger channel counts and larger windows are refused as mistakes before any arithmetic on them.
MAXIMUM_TEXT_LENGTH = 10_000
MAXIMUM_WIDTH = 1 << 16
MAXIMUM_WINDOW = 1024
_INT_MAX = 2**63 - 1


class ModelSpecError(ValueError):
    """A spec that does not parse or does not build, pointing at the offending token when there is one."""

    def __init__(self, reason: str, token_index: Optional[int] = None, token: str = ""):
        self.reason = reason
        self.token_index = token_index
        self.token = token
        if token_index is None:
            message = f"bad model spec: {reason}"
        else:
            message = f"bad model spec at token {token_index + 1} '{token}': {reason}"
        super().__init__(message)


@dataclass(frozen=True)
class Conv:
    channels: int
    kernel: int = 3
    stride: int = 1
    padding: int = 1


@dataclass(frozen=True)
class Pool:
    average: bool
    kernel: int = 2
    stride: int = 2


@dataclass(frozen=True)
class Activation:
    function: str
    #: The slope of ``leakyrelu`` or the alpha of ``elu``.
    parameter: Optional[float] = None


@dataclass(frozen=True)
class Dropout:
    p: float = 0.5
    channelwise: bool = False


@dataclass(frozen=True)
class Linear:
    features: int


@dataclass(frozen=True)
class Residual:
    channels: int
    stride: int = 1
    middle: Optional[int] = None


@dataclass(frozen=True)
class Simple:
    """``bn``, ``gap`` or ``flatten``: a layer without arguments."""
    kind: str


Operation = Union[Conv, Pool, Activation, Dropout, Linear, Residual, Simple]


@dataclass(frozen=True)
class Token:
    """One token as written and what it means; ``kind`` is its ``LayerKind`` name."""
    text: str
    kind: str
    op: Operation


@dataclass(frozen=True)
class ModelSpec:
    """A parsed spec: its tokens, and the preset it came from (if any)."""
    tokens: tuple
    preset: Optional[str] = None

    @property
    def text(self) -> str:
        """The spec as a comma-separated string: the form stored in checkpoints."""
        return ",".join(t.text for t in self.tokens)

    def __str__(self) -> str:
        return self.text


def parse(text: str) -> ModelSpec:
    """Parses a preset name or a spec string (case and surrounding spaces do not matter)."""
    length = len(text.encode("utf-8"))
    if length > MAXIMUM_TEXT_LENGTH:
        raise ModelSpecError(f"the model spec is {length} bytes long, more than the limit of {MAXIMUM_TEXT_LENGTH}")
    trimmed = text.strip().lower()
    if trimmed in PRESETS:
        return ModelSpec(_parse_tokens(PRESETS[trimmed]), trimmed)
    return ModelSpec(_parse_tokens(trimmed), None)


def _parse_tokens(text: str) -> tuple:
    pieces = [p.strip() for p in text.split(",")]
    if len(pieces) == 1 and not pieces[0]:
        raise ModelSpecError("the model spec is empty")
    tokens = []
    for index, piece in enumerate(pieces):
        try:
            kind, op = _parse_token(piece.lower())
        except _Reason as reason:
            raise ModelSpecError(str(reason), index, piece) from None
        tokens.append(Token(piece, kind, op))
    return tuple(tokens)


class _Reason(Exception):
    pass


class _Scanner:
    """Reads the numeric arguments after a layer name (``32k5s2p1``, ``0.3``), as ``ArgumentScanner``."""

    def __init__(self, text: str):
        self.text = text
        self.position = 0

    @property
    def at_end(self) -> bool:
        return self.position == len(self.text)

    @property
    def rest(self) -> str:
        return self.text[self.position:]

    def integer(self) -> Optional[int]:
        end = self.position
        while end < len(self.text) and self.text[end] in "0123456789":
            end += 1
        if end == self.position:
            return None
        value = min(int(self.text[self.position:end]), _INT_MAX)  # saturating, as the engine's scanner
        self.position = end
        return value

    def labelled(self, label: str) -> Optional[int]:
        if self.position < len(self.text) and self.text[self.position] == label:
            saved = self.position
            self.position += 1
            value = self.integer()
            if value is not None:
                return value
            self.position = saved
        return None

    def decimal(self) -> Optional[float]:
        end = self.position
        while end < len(self.text) and (self.text[end].isdigit() or self.text[end] in ".e-+"):
            end += 1
        if end == self.position:
            return None
        try:
            value = float(self.text[self.position:end])
        except ValueError:
            return None
        self.position = end
        return value


def _parse_token(token: str):
    if not token:
        raise _Reason("empty layer (two commas in a row?)")
    kind = next((k for k in _KINDS_BY_LENGTH if token.startswith(k)), None)
    if kind is None:
        raise _Reason(f"unknown layer; expected one of {', '.join(KINDS)}")
    scanner = _Scanner(token[len(kind):])

    def finish(op):
        if not scanner.at_end:
            raise _Reason(f"unexpected '{scanner.rest}' after {kind}")
        return kind, op

    def bounded(value, what, limit, zero=False):
        if value is None:
            return None
        low = 0 if zero else 1
        if value < low:
            raise _Reason(f"{what} must be at least {low}, not {value}")
        if value > limit:
            raise _Reason(f"{what} must be at most {limit}" + (f", not {value}" if value < _INT_MAX else ""))
        return value

    def positive(value, what):
        return bounded(value, what, MAXIMUM_WINDOW)

    def width(value, what):
        return bounded(value, what, MAXIMUM_WIDTH)

    def finite(value, what):
        if value is not None and not math.isfinite(float(np.float32(value))):
            raise _Reason(f"{what} must be a finite number")
        return value

    if kind == "conv":
        channels = width(scanner.integer(), "the channel count")
        if channels is None:
            raise _Reason("conv needs an output channel count, as in conv32")
        kernel = positive(scanner.labelled("k"), "the kernel size") or 3
        stride = positive(scanner.labelled("s"), "the stride") or 1
        padding = bounded(scanner.labelled("p"), "the padding", MAXIMUM_WINDOW, zero=True)
        padding = kernel // 2 if padding is None else padding
        if padding > kernel // 2:
            raise _Reason(f"padding {padding} is more than half the kernel size {kernel}")
        return finish(Conv(channels, kernel, stride, padding))
    if kind in ("maxpool", "avgpool"):
        kernel = positive(scanner.integer(), "the pool size") or 2
        stride = positive(scanner.labelled("s"), "the stride") or kernel
        return finish(Pool(kind == "avgpool", kernel, stride))
    if kind == "res":
        channels = width(scanner.integer(), "the channel count")
        if channels is None:
            raise _Reason("res needs a channel count, as in res64 or res64s2")
        stride = positive(scanner.labelled("s"), "the stride") or 1
        middle = width(scanner.labelled("m"), "the middle width") or channels
        return finish(Residual(channels, stride, middle))
    if kind == "fc":
        features = width(scanner.integer(), "the output size")
        if features is None:
            raise _Reason("fc needs an output size, as in fc10")
        return finish(Linear(features))
    if kind in ("dropout", "dropout2d"):
        p = finite(scanner.decimal(), "the dropout probability")
        p = 0.5 if p is None else p
        if not 0 <= p < 1:
            raise _Reason(f"dropout probability must be in [0, 1), not {_swift_float(p)}")
        return finish(Dropout(p, kind == "dropout2d"))
    if kind == "leakyrelu":
        slope = finite(scanner.decimal(), "the slope")
        return finish(Activation(kind, 0.01 if slope is None else slope))
    if kind == "elu":
        alpha = finite(scanner.decimal(), "alpha")
        return finish(Activation(kind, 1.0 if alpha is None else alpha))
    if kind in ACTIVATIONS:
        return finish(Activation(kind))
    return finish(Simple(kind))


def _swift_float(value: float) -> str:
    """A number as Swift prints a ``Float`` in messages (``1.0``, ``0.5``)."""
    return repr(float(value))
