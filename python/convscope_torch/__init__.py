"""The PyTorch side of ConvScope: its model spec language as ``torch.nn`` modules, its data, and a
writer of the run directories that ConvScope reads while they grow.

- ``SpecNet(spec)``: the network of a ConvScope model spec, with the engine's layer and tensor names.
- ``load_checkpoint(path)`` / ``save_checkpoint(...)``: checkpoints both programs read.
- ``load_data("synthetic" | DIR)``: the engine's synthetic set (byte for byte) or CIFAR-10's binary files.
- ``RunWriter(DIR, ...)``: metrics and checkpoints in the run-directory layout, from rank 0 only.

See ``docs/pytorch.md`` and ``docs/run-directory.md`` in the repository.
"""

__version__ = "0.1.0"

from .spec import PRESETS, ModelSpec, ModelSpecError, parse  # noqa: E402
from .model import SpecNet, ResidualBlock, unwrap  # noqa: E402
from .checkpoint import CheckpointError, load_checkpoint, read_metadata, save_checkpoint  # noqa: E402
from .data import Data, DataError, load_cifar10, load_data, load_synthetic, normalize  # noqa: E402
from .run_writer import RunDirectoryError, RunWriter, checkpoint_name  # noqa: E402

__all__ = [
    "PRESETS", "ModelSpec", "ModelSpecError", "parse", "SpecNet", "ResidualBlock", "unwrap",
    "CheckpointError", "load_checkpoint", "read_metadata", "save_checkpoint",
    "Data", "DataError", "load_cifar10", "load_data", "load_synthetic", "normalize",
    "RunDirectoryError", "RunWriter", "checkpoint_name",
]
