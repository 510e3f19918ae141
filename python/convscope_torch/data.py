"""The data ConvScope trains on, as tensors: CIFAR-10's binary files or the synthetic shapes.

``load_data("synthetic")`` draws the engine's synthetic set (seed 0, as ``convscope --data synthetic``
does); ``load_data(DIR)`` reads CIFAR-10's binary batches from a folder. Both give uint8 images in
planar RGB (N, 3, 32, 32), int64 labels, the class names and the name ConvScope shows for the set.
``normalize`` maps bytes to the network's inputs exactly as the engine's ``Normalization.cifar10``
does: ``(byte / 255 - mean) / std`` in float32.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from . import synthetic

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
TRAINING_FILES = [f"data_batch_{i}.bin" for i in range(1, 6)]
TEST_FILE = "test_batch.bin"
RECORD_SIZE = 1 + 3 * 32 * 32
#: CIFAR-10's channel statistics, the engine's ``Normalization.cifar10`` (used for both data sets).
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)


class DataError(ValueError):
    """Data that cannot be loaded; the message names the file and what was expected."""


@dataclass
class Data:
    """A training and a test set of 32 x 32 images (uint8, N x 3 x 32 x 32) with labels (int64)."""
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    classes: list
    #: ``CIFAR-10`` or ``SYNTHETIC``, the name ConvScope shows and stores in checkpoints.
    name: str


def read_cifar_batch(path: str) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 binary batch: 3073-byte records of a label (0-9) and 3072 planar RGB bytes."""
    try:
        size = os.path.getsize(path)
    except OSError as error:
        raise DataError(f"cannot read '{path}': {error.strerror}") from error
    if size == 0 or size % RECORD_SIZE:
        raise DataError(f"'{path}' has {size} bytes, not a whole number of {RECORD_SIZE}-byte CIFAR-10 records")
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, RECORD_SIZE)
    labels = raw[:, 0].astype(np.int64)
    if labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise DataError(f"'{path}' record {bad} has label {labels[bad]}, expected 0-9")
    return raw[:, 1:].reshape(-1, 3, 32, 32), labels


def load_cifar10(directory: str, train_limit: int | None = None) -> Data:
    """CIFAR-10 from the folder of its binary version (``cifar-10-batches-bin``)."""
    if not os.path.isdir(directory):
        raise DataError(f"'{directory}' is not a folder (expected CIFAR-10's cifar-10-batches-bin)")
    missing = [f for f in TRAINING_FILES + [TEST_FILE] if not os.path.exists(os.path.join(directory, f))]
    if missing:
        raise DataError(f"'{directory}' lacks {', '.join(missing)} (expected CIFAR-10's binary batches)")
    parts = [read_cifar_batch(os.path.join(directory, f)) for f in TRAINING_FILES]
    train_x = np.concatenate([p[0] for p in parts])
    train_y = np.concatenate([p[1] for p in parts])
    test_x, test_y = read_cifar_batch(os.path.join(directory, TEST_FILE))
    if train_limit is not None:
        train_x, train_y = train_x[:train_limit], train_y[:train_limit]
    return Data(torch.from_numpy(np.ascontiguousarray(train_x)), torch.from_numpy(train_y),
                torch.from_numpy(np.ascontiguousarray(test_x)), torch.from_numpy(test_y), CIFAR10_CLASSES, "CIFAR-10")


def load_synthetic(seed: int = 0, train_count: int = synthetic.DEFAULT_TRAIN_COUNT,
                   test_count: int = synthetic.DEFAULT_TEST_COUNT, train_limit: int | None = None) -> Data:
    """The engine's synthetic shapes (``SyntheticDataset.generate(seed:)``), byte for byte."""
    if train_limit is not None:
        train_count = min(train_count, train_limit)
    (train_x, train_y), (test_x, test_y) = synthetic.generate(seed, train_count, test_count)
    return Data(torch.from_numpy(train_x), torch.from_numpy(train_y), torch.from_numpy(test_x),
                torch.from_numpy(test_y), list(synthetic.CLASS_NAMES), "SYNTHETIC")


def load_data(source: str, train_limit: int | None = None) -> Data:
    """``synthetic`` (any case) or a CIFAR-10 folder."""
    if source.lower() == "synthetic":
        return load_synthetic(train_limit=train_limit)
    return load_cifar10(source, train_limit=train_limit)


def normalize(images: torch.Tensor) -> torch.Tensor:
    """Bytes (N x 3 x H x W, uint8) to network inputs: ``(byte / 255 - mean) / std`` per channel, float32,
    each step rounded as the engine's ``Normalization.formula`` rounds it."""
    mean = torch.tensor(MEAN, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=torch.float32).view(1, 3, 1, 1)
    return (images.to(torch.float32) / 255 - mean) / std
