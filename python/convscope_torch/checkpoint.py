"""ConvScope checkpoints from PyTorch: safetensors files with the engine's tensor names and metadata.

A checkpoint is a safetensors file holding the model's ``state_dict`` (F32 tensors, I64
``num_batches_tracked``) and, in its ``__metadata__`` (all strings), the keys ConvScope's
``RunCheckpoint`` writes and reads:

===========  =============================================================================
``format``   ``convscope``
``spec``     the model spec (``SpecNet.spec.text``), from which a reader builds the network
``step``     optimiser steps taken (an integer, as text)
``epoch``    epochs completed
``classes``  the class names, a JSON array
``dataset``  ``CIFAR-10`` or ``SYNTHETIC`` (or another data set's name)
===========  =============================================================================

ConvScope itself adds ``config``, ``metrics`` and ``optimizer.*`` tensors, which readers here ignore.
Files are written atomically: to a hidden temporary file in the same folder, synced, then renamed, so
a reader sees no file or the whole file.
"""

from __future__ import annotations

import json
import os
import tempfile

import torch
from safetensors import safe_open
from safetensors.torch import save as _save_bytes

from .model import SpecNet, unwrap

FORMAT = "convscope"
#: Tensors under these prefixes are not part of the model (optimiser state, pruning masks).
EXTRA_PREFIXES = ("optimizer.", "mask.")


class CheckpointError(ValueError):
    """A checkpoint that cannot be read as a ConvScope model; the message names the file."""


def state_tensors(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The model's state as ConvScope stores it: float tensors as contiguous F32 on the CPU."""
    out = {}
    for name, tensor in unwrap(model).state_dict().items():
        tensor = tensor.detach().to("cpu")
        if tensor.is_floating_point():
            tensor = tensor.to(torch.float32)
        out[name] = tensor.contiguous().clone()
    return out


def write_atomically(path: str, data: bytes) -> None:
    """Writes ``data`` to ``path`` all or nothing (temporary file beside it, fsync, rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable; not every file system lets a directory be opened
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_checkpoint(path: str, model: torch.nn.Module, *, spec: str, step: int, epoch: int, classes,
                    dataset: str, metadata: dict | None = None) -> str:
    """Writes ``model``'s state to ``path`` as a ConvScope checkpoint (atomically); returns ``path``."""
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    meta.update({
        "format": FORMAT,
        "spec": str(spec),
        "step": str(int(step)),
        "epoch": str(int(epoch)),
        "classes": json.dumps(list(classes)),
        "dataset": str(dataset),
    })
    write_atomically(path, _save_bytes(state_tensors(model), metadata=meta))
    return path


def read_metadata(path: str) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file."""
    with safe_open(path, framework="pt") as file:
        return dict(file.metadata() or {})


def load_checkpoint(path: str, map_location: str = "cpu") -> tuple[SpecNet, dict[str, str]]:
    """Builds the ``SpecNet`` of a ConvScope checkpoint (written by ConvScope or by ``save_checkpoint``)
    with its weights and statistics; returns ``(model, metadata)``. The model is in eval mode.

    Raises ``CheckpointError`` when the file has no model spec or its tensors do not fit the spec.
    """
    try:
        with safe_open(path, framework="pt", device=map_location) as file:
            metadata = dict(file.metadata() or {})
            tensors = {name: file.get_tensor(name) for name in file.keys() if not name.startswith(EXTRA_PREFIXES)}
    except Exception as error:  # safetensors raises its own error types for damaged files
        raise CheckpointError(f"checkpoint '{path}' cannot be read: {error}") from error
    spec = metadata.get("spec")
    if spec is None:
        raise CheckpointError(f"checkpoint '{path}' has no ConvScope model spec in its metadata ('spec')")
    model = SpecNet(spec)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as error:
        raise CheckpointError(f"checkpoint '{path}' does not fit its spec {spec}: {error}") from error
    return model.eval(), metadata
