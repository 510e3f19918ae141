"""The reference training recipe (``../shared/bench/train_reference.py``, ConvScope's ``--recipe standard``).

SGD with Nesterov momentum 0.9; weight decay 5e-4 on weights (tensors of two or more dimensions), none
on biases and batch-norm parameters; PyTorch's ``OneCycleLR`` peaking at the given rate with 15%
warm-up, cosine annealing, start at peak/10 and end at peak/1000 (momentum cycling 0.85-0.95); label
smoothing 0.1; a random 32 x 32 crop of the image padded by 4 zero pixels and a horizontal flip with
probability 1/2, per image and step; He-normal initialisation of the convolutions.
"""

from __future__ import annotations

import torch
import torch.nn as nn

LABEL_SMOOTHING = 0.1
MOMENTUM = 0.9
WEIGHT_DECAY = 5e-4
WARMUP = 0.15
PADDING = 4


def initialize(model: nn.Module) -> None:
    """He-normal (fan-in, ReLU gain) for every convolution's weights; PyTorch's defaults elsewhere."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")


def optimizer(model: nn.Module, lr: float) -> torch.optim.SGD:
    """SGD, Nesterov momentum 0.9, weight decay on weights only."""
    decay = [p for p in model.parameters() if p.dim() > 1]
    no_decay = [p for p in model.parameters() if p.dim() <= 1]
    return torch.optim.SGD([{"params": decay, "weight_decay": WEIGHT_DECAY},
                            {"params": no_decay, "weight_decay": 0.0}], lr=lr, momentum=MOMENTUM, nesterov=True)


def schedule(opt: torch.optim.Optimizer, lr: float, total_steps: int):
    """One cycle over ``total_steps`` steps, peaking at ``lr`` after 15% of them."""
    return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(total_steps, 1), pct_start=WARMUP,
                                               anneal_strategy="cos", div_factor=10, final_div_factor=100)


def loss_function() -> nn.CrossEntropyLoss:
    return nn.CrossEntropyLoss(label_smoothing=LABEL_SMOOTHING)


def crop_and_flip(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A random 32 x 32 crop of each image zero-padded by 4 pixels, mirrored with probability 1/2.

    ``images`` is a normalised batch (N x C x H x W, any device); all images are cropped in one
    gather rather than a Python loop.
    """
    n, _, h, w = images.shape
    device = images.device
    padded = torch.nn.functional.pad(images, (PADDING, PADDING, PADDING, PADDING))
    ox = torch.randint(0, 2 * PADDING + 1, (n,), generator=generator).to(device)
    oy = torch.randint(0, 2 * PADDING + 1, (n,), generator=generator).to(device)
    flip = (torch.rand(n, generator=generator) < 0.5).to(device)
    rows = oy[:, None] + torch.arange(h, device=device)[None, :]                # n x h
    columns = torch.arange(w, device=device)[None, :].expand(n, w)
    columns = torch.where(flip[:, None], columns.flip(1), columns) + ox[:, None]  # n x w
    batch = torch.arange(n, device=device)[:, None, None]
    # padded[b, :, rows[b, i], columns[b, j]] for every b, i, j: gives n x h x w x C.
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], columns[:, None, :]]
    return out.permute(0, 3, 1, 2).contiguous()
