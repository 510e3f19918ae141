"""ConvScope models as ``torch.nn`` modules, with the engine's layer names and tensor layouts.

``SpecNet(spec)`` builds the network a spec describes (see ``convscope_torch.spec``), checking shapes
the way ``Network.swift`` does, so a spec ConvScope refuses is refused here with the same message. Its
``state_dict()`` has exactly the tensors a ConvScope checkpoint holds, under the same names
(``conv1.weight``, ``bn2.running_var``, ``res3.shortcut.conv.weight``, ``fc1.bias``), so checkpoints
go both ways: ``load_checkpoint`` reads one written by ``convscope train``, and ``RunWriter`` writes
ones that ``convscope eval``, ``predict`` and the app read.

Numerics follow the engine: batch norm with eps 1e-5 and momentum 0.1, exact (erf) GELU, floor-mode
pooling without padding, ``fc`` flattening a feature map in NCHW order, residual blocks
``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`` with a 1x1 convolution and batch norm on the
shortcut when the shape changes.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import spec as specs
from .spec import ModelSpecError

#: A CIFAR image: channels, height, width.
CIFAR_IMAGE = (3, 32, 32)


class ResidualBlock(nn.Module):
    """A basic residual block (He et al. 2016), ConvScope's ``res<C>[s<S>][m<M>]``.

    Both convolutions are 3x3 without bias, the first carrying the stride and ``middle`` channels wide;
    the shortcut is the input itself, or ``shortcut.conv`` (1x1, strided) and ``shortcut.bn`` when
    the shape changes.
    """

    def __init__(self, in_channels: int, channels: int, stride: int = 1, middle: int | None = None):
        super().__init__()
        middle = middle or channels
        self.conv1 = nn.Conv2d(in_channels, middle, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(middle)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(middle, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.projects = stride != 1 or in_channels != channels
        if self.projects:
            self.shortcut = nn.Module()
            self.shortcut.conv = nn.Conv2d(in_channels, channels, 1, stride, 0, bias=False)
            self.shortcut.bn = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        s = self.shortcut.bn(self.shortcut.conv(x)) if self.projects else x
        return F.relu(y + s)


class GlobalAvgPool(nn.Module):
    """``gap``: the mean of each channel, giving a vector of the channel count."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


class FlatLinear(nn.Linear):
    """``fc<N>``: a linear layer that flattens a feature map (NCHW order) first, as the engine's does."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.flatten(1) if x.dim() > 2 else x)


def _activation(op: specs.Activation) -> nn.Module:
    f = op.function
    if f == "relu":
        return nn.ReLU()
    if f == "leakyrelu":
        return nn.LeakyReLU(op.parameter)
    if f == "elu":
        return nn.ELU(op.parameter)
    if f == "selu":
        return nn.SELU()
    if f == "swish":
        return nn.SiLU()
    if f == "gelu":
        return nn.GELU()
    if f == "sigmoid":
        return nn.Sigmoid()
    return nn.Tanh()


def _shape_text(shape) -> str:
    return str(shape[0]) if len(shape) == 1 else "x".join(map(str, shape))


def _tdiv(a: int, b: int) -> int:
    """Integer division truncating toward zero, as Swift's ``/``."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


class SpecNet(nn.Module):
    """The network of a ConvScope model spec (a preset name or a spec string).

    ``layers`` lists ``(name, kind)`` in order; each layer is also an attribute of that name, so
    ``model.conv1`` or ``getattr(model, "res2")`` reach it (for hooks, Grad-CAM, feature maps).
    ``forward(x, capture)`` fills ``capture`` (a dict) with every layer's output when one is given.

    Raises ``ModelSpecError`` when the spec does not parse, a layer does not fit its input, or the
    network does not end in ``classes`` scores.
    """

    def __init__(self, spec: str | specs.ModelSpec = specs.DEFAULT_PRESET, input_shape=CIFAR_IMAGE, classes: int = 10):
        super().__init__()
        self.spec = spec if isinstance(spec, specs.ModelSpec) else specs.parse(spec)
        self.layers: list[tuple[str, str]] = []
        tokens = self.spec.tokens
        counts: dict[str, int] = {}
        shape = tuple(input_shape)
        for index, token in enumerate(tokens):
            counts[token.kind] = counts.get(token.kind, 0) + 1
            name = f"{token.kind}{counts[token.kind]}"
            op = token.op

            def fail(reason: str) -> ModelSpecError:
                return ModelSpecError(reason, index, token.text)

            def require_spatial():
                if len(shape) == 1:
                    raise fail(f"needs a feature map but gets a flat vector of {shape[0]} (after gap, flatten or fc)")

            def require_fits(kernel: int, stride: int, padding: int):
                h, w = shape[1], shape[2]
                out_h = _tdiv(h - kernel + 2 * padding, stride) + 1
                out_w = _tdiv(w - kernel + 2 * padding, stride) + 1
                if not (out_h >= 1 and out_w >= 1 and h + 2 * padding >= kernel):
                    raise fail(
                        f"the {h}x{w} input is smaller than its {kernel}x{kernel} window; "
                        f"out = (in - k + 2p)/s + 1 = ({h} - {kernel} + {2 * padding})/{stride} + 1 < 1")
                return out_h, out_w

            if isinstance(op, specs.Conv):
                require_spatial()
                h, w = require_fits(op.kernel, op.stride, op.padding)
                followed_by_bn = index + 1 < len(tokens) and tokens[index + 1].kind == "bn"
                module = nn.Conv2d(shape[0], op.channels, op.kernel, op.stride, op.padding, bias=not followed_by_bn)
                shape = (op.channels, h, w)
            elif isinstance(op, specs.Pool):
                require_spatial()
                h, w = require_fits(op.kernel, op.stride, 0)
                module = (nn.AvgPool2d if op.average else nn.MaxPool2d)(op.kernel, op.stride)
                shape = (shape[0], h, w)
            elif isinstance(op, specs.Residual):
                require_spatial()
                h, w = require_fits(3, op.stride, 1)
                module = ResidualBlock(shape[0], op.channels, op.stride, op.middle)
                shape = (op.channels, h, w)
            elif isinstance(op, specs.Activation):
                module = _activation(op)
            elif isinstance(op, specs.Dropout):
                if op.channelwise:
                    require_spatial()
                module = (nn.Dropout2d if op.channelwise else nn.Dropout)(op.p)
            elif isinstance(op, specs.Linear):
                module = FlatLinear(_count(shape), op.features)
                shape = (op.features,)
            elif op.kind == "bn":
                require_spatial()
                module = nn.BatchNorm2d(shape[0])
            elif op.kind == "gap":
                require_spatial()
                module = GlobalAvgPool()
                shape = (shape[0],)
            else:  # flatten
                module = nn.Flatten()
                shape = (_count(shape),)
            self.add_module(name, module)
            self.layers.append((name, token.kind))
        if len(shape) != 1 or shape[0] != classes:
            output = f"a vector of {shape[0]}" if len(shape) == 1 else f"a {_shape_text(shape)} feature map"
            raise ModelSpecError(
                f"the network must end in {classes} class scores (for example gap,fc{classes}), but its output is {output}")
        self.output_classes = classes

    def forward(self, x: torch.Tensor, capture: dict | None = None) -> torch.Tensor:
        for name, _ in self.layers:
            x = getattr(self, name)(x)
            if capture is not None:
                capture[name] = x
        return x


def _count(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside a ``DistributedDataParallel``/``DataParallel`` wrapper or ``torch.compile``."""
    while True:
        if hasattr(model, "module") and isinstance(model.module, nn.Module):
            model = model.module
        elif hasattr(model, "_orig_mod") and isinstance(model._orig_mod, nn.Module):
            model = model._orig_mod
        else:
            return model
