"""``RunWriter``: writes a ConvScope run directory from a PyTorch training script.

A run directory (``docs/run-directory.md`` in the repository, format version 1) is::

    DIR/run.json                                 what the run is (written once, atomically)
    DIR/metrics.jsonl                            one JSON object per line, appended as training goes
    DIR/checkpoints/step-000000390.safetensors   checkpoints, each written atomically

ConvScope's reader (``RunDirectory``, which ``convscope watch DIR`` is to use) follows such a directory
while it grows, whichever program writes it, and ``convscope train --run-dir DIR`` writes the same layout. Under ``torchrun`` only rank 0 writes: a
``RunWriter`` made on any other rank does nothing, so a script calls it on every rank without
``if rank == 0`` around each call.
"""

from __future__ import annotations

import json
import math
import os
import time

import torch

from . import __version__
from .checkpoint import save_checkpoint, write_atomically
from .model import unwrap

#: The layout's name and version, as ``run.json`` states them.
FORMAT = "convscope-run"
VERSION = 1
MANIFEST = "run.json"
METRICS = "metrics.jsonl"
CHECKPOINTS = "checkpoints"


def checkpoint_name(step: int) -> str:
    """``step-000000390.safetensors``: zero-padded so that names sort by step."""
    return f"step-{int(step):09d}.safetensors"


class RunDirectoryError(Exception):
    """The run directory cannot be used (it holds another run, or cannot be created)."""


def current_rank() -> int:
    """This process's rank under ``torch.distributed`` (0 when it is not initialised)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank()
    return int(os.environ.get("RANK", "0"))


def _number(value):
    """A JSON-ready number: tensors and numpy scalars to Python numbers, non-finite ones to None."""
    if isinstance(value, torch.Tensor):
        value = value.item()
    if hasattr(value, "item") and not isinstance(value, (int, float, bool)):
        value = value.item()
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def _clean(value):
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return _number(value)


class RunWriter:
    """Writes the run directory ``directory``: ``run.json`` now, metrics lines and checkpoints as asked.

    ``spec`` is the model spec (a preset name or spec string, or a ``SpecNet``'s ``spec``), ``classes``
    the class names in label order, ``dataset`` the data set's name (``CIFAR-10``, ``SYNTHETIC``).
    ``epochs``, ``steps_per_epoch`` and ``batch`` describe the plan (shown by readers, optional);
    ``info`` adds keys of your own to ``run.json``.

    A directory that already holds a run (a ``run.json``) is refused unless ``resume`` is true, in which
    case metrics are appended to it. ``rank`` defaults to the process's rank; a writer on a rank other
    than 0 writes nothing (``active`` is false).

    Numbers may be Python numbers, numpy scalars or one-element tensors; NaN and infinities are written
    as ``null`` (JSON has no such numbers).
    """

    def __init__(self, directory: str, *, spec, classes, dataset: str, epochs: int | None = None,
                 steps_per_epoch: int | None = None, batch: int | None = None, info: dict | None = None,
                 resume: bool = False, rank: int | None = None):
        self.directory = directory
        self.spec = str(getattr(spec, "text", spec))
        self.classes = list(classes)
        self.dataset = str(dataset)
        self.active = (current_rank() if rank is None else rank) == 0
        self._start = time.monotonic()
        self._fd = None
        if not self.active:
            return
        manifest_path = os.path.join(directory, MANIFEST)
        try:
            os.makedirs(os.path.join(directory, CHECKPOINTS), exist_ok=True)
        except OSError as error:
            raise RunDirectoryError(f"cannot create run directory '{directory}': {error.strerror}") from error
        if os.path.exists(manifest_path):
            if not resume:
                raise RunDirectoryError(
                    f"'{directory}' already holds a run ({MANIFEST}); choose a new directory")
        else:
            manifest = {
                "format": FORMAT, "version": VERSION, "writer": f"convscope_torch {__version__}",
                "spec": self.spec, "dataset": self.dataset, "classes": self.classes,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            for key, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch), ("batch", batch)):
                if value is not None:
                    manifest[key] = int(value)
            manifest.update(_clean(info or {}))
            write_atomically(manifest_path, (json.dumps(manifest, indent=2) + "\n").encode())
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        self._fd = os.open(os.path.join(directory, METRICS), flags, 0o666)

    # -- metrics ---------------------------------------------------------------------------------

    def log(self, record: dict) -> None:
        """Appends one metrics line: ``record`` must have an integer ``step``; ``kind`` defaults to
        ``train``. Each line goes out in one ``write``, so a reader never sees half a line for long
        (and waits for the newline when it does)."""
        if not self.active:
            return
        if "step" not in record:
            raise ValueError("a metrics record needs a 'step'")
        line = {"kind": record.get("kind", "train"), "step": int(_number(record["step"]))}
        for key, value in record.items():
            if key not in line:
                line[key] = _clean(value)
        line.setdefault("time", round(time.monotonic() - self._start, 3))
        data = memoryview((json.dumps(line, separators=(",", ":"), allow_nan=False) + "\n").encode())
        while data:
            data = data[os.write(self._fd, data):]

    def log_train(self, step: int, epoch: int, loss, accuracy, lr, images_per_s=None, **extra) -> None:
        """A training line: ``loss`` and ``accuracy`` (a fraction) over the steps since the previous
        training line, ``epoch`` the epoch in progress (from 1), ``lr`` the learning rate now."""
        record = {"kind": "train", "step": step, "epoch": epoch, "loss": loss, "accuracy": accuracy, "lr": lr}
        if images_per_s is not None:
            record["images_per_s"] = images_per_s
        record.update(extra)
        self.log(record)

    def log_eval(self, step: int, epoch: int, test_loss, test_accuracy, loss=None, accuracy=None, lr=None,
                 images_per_s=None, epoch_seconds=None, **extra) -> None:
        """An evaluation line after epoch ``epoch`` (from 1) finished: the test set's loss and accuracy,
        and optionally the epoch's mean training loss and accuracy, learning rate and speed."""
        record = {"kind": "eval", "step": step, "epoch": epoch, "test_loss": test_loss, "test_accuracy": test_accuracy}
        for key, value in (("loss", loss), ("accuracy", accuracy), ("lr", lr), ("images_per_s", images_per_s),
                           ("epoch_seconds", epoch_seconds)):
            if value is not None:
                record[key] = value
        record.update(extra)
        self.log(record)

    # -- checkpoints -----------------------------------------------------------------------------

    def save_checkpoint(self, model: torch.nn.Module, step: int, epoch: int, metadata: dict | None = None) -> str | None:
        """Writes ``checkpoints/step-<step>.safetensors`` (atomically) from ``model`` (a ``SpecNet``,
        possibly inside ``DistributedDataParallel``); returns its path, or None on other ranks.
        ``epoch`` is the number of epochs completed."""
        if not self.active:
            return None
        inner = unwrap(model)
        spec = getattr(getattr(inner, "spec", None), "text", self.spec)
        meta = {"writer": f"convscope_torch {__version__}"}
        meta.update(metadata or {})
        path = os.path.join(self.directory, CHECKPOINTS, checkpoint_name(step))
        return save_checkpoint(path, inner, spec=spec, step=step, epoch=epoch, classes=self.classes,
                               dataset=self.dataset, metadata=meta)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()
