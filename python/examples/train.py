"""Train a ConvScope model spec in PyTorch, on CPU or GPU, in one process or many, and write a run
directory that ConvScope reads while it grows (docs/run-directory.md).

    python python/examples/train.py --data synthetic --model simple --epochs 2 --run-dir runs/torch1
    torchrun --nproc_per_node=2 python/examples/train.py --data synthetic --epochs 1 --run-dir runs/ddp
    torchrun --nproc_per_node=4 python/examples/train.py --data DIR --device cuda --run-dir runs/gpu4

The recipe is ``../shared/bench/train_reference.py``'s (ConvScope's ``--recipe standard``): SGD with
Nesterov momentum, one-cycle learning rate, label smoothing, random crop and flip. ``--batch`` is the
global batch: under ``torchrun`` each of the N processes takes 1/N of every batch, so a run sees the
same batches in the same order whatever N is (batch norm statistics are per process, as in plain
DistributedDataParallel). Backend: gloo on CPU, nccl on GPU. Only rank 0 writes the run directory and
prints.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import torch
import torch.distributed as dist

try:
    import convscope_torch  # noqa: F401
except ImportError:  # run from a checkout without installing: use the package beside this folder
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from convscope_torch import ModelSpecError, RunWriter, SpecNet, load_data, normalize
from convscope_torch import recipe
from convscope_torch.data import DataError
from convscope_torch.run_writer import RunDirectoryError


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=None,
                   help="CIFAR-10 binary folder, or 'synthetic' (default: $CONVSCOPE_DATA, then "
                        "~/.cache/convscope/cifar-10-batches-bin)")
    p.add_argument("--model", default="simple", help="a preset (tiny, simple, vgg, resnet20, fast, airbench) or a spec string")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--run-dir", help="write metrics and checkpoints here as a ConvScope run directory")
    p.add_argument("--batch", type=int, default=128, help="global batch (split across processes)")
    p.add_argument("--lr", type=float, default=0.1, help="peak learning rate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-limit", type=int, help="train on the first N training images only")
    p.add_argument("--device", default="auto", help="auto (cuda when available), cpu, cuda")
    p.add_argument("--log-every", type=int, default=10, help="steps between metrics lines")
    p.add_argument("--checkpoint-every", type=int, default=0,
                   help="also save a checkpoint every N steps (0: after each epoch only)")
    args = p.parse_args(argv)
    for name in ("epochs", "batch", "log_every"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1, not {getattr(args, name)}")
    if args.checkpoint_every < 0:
        p.error(f"--checkpoint-every must not be negative, not {args.checkpoint_every}")
    if not (args.lr > 0 and math.isfinite(args.lr)):
        p.error(f"--lr must be a positive number, not {args.lr}")
    if args.train_limit is not None and args.train_limit < 1:
        p.error(f"--train-limit must be at least 1, not {args.train_limit}")
    return args


def data_source(arg):
    if arg:
        return arg
    for candidate in (os.environ.get("CONVSCOPE_DATA"), os.path.expanduser("~/.cache/convscope/cifar-10-batches-bin")):
        if candidate:
            if candidate.lower() == "synthetic" or os.path.isdir(candidate):
                return candidate
    raise DataError("no CIFAR-10 found: pass --data DIR (its binary version) or --data synthetic")


class Distributed:
    """Rank, world size and device of this process; sets up torch.distributed under torchrun."""

    def __init__(self, device_choice: str):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        cuda = torch.cuda.is_available() if device_choice == "auto" else device_choice.startswith("cuda")
        if cuda and not torch.cuda.is_available():
            raise SystemExit("train.py: --device cuda, but this PyTorch sees no CUDA device")
        self.device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
        if cuda:
            torch.cuda.set_device(self.device)
        if self.world > 1:
            dist.init_process_group(backend="nccl" if cuda else "gloo")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def sum(self, *values: float) -> list[float]:
        """Sums of each value over all processes."""
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        if self.world > 1:
            dist.all_reduce(t)
        return t.tolist()

    def close(self):
        if self.world > 1 and dist.is_initialized():
            dist.destroy_process_group()

    def finish(self):
        """Waits for every process to finish its work. A rank that destroys its group while a peer still
        talks to it can abort gloo's threads at exit ("terminate called without an active exception"); only
        after a run that succeeded everywhere, since a rank that failed alone never reaches the barrier."""
        if self.world > 1 and dist.is_initialized():
            dist.barrier()


def evaluate(model, images, labels, ctx: Distributed, batch: int = 500):
    """Test loss and accuracy, each process taking its share of the test set. Every process first takes
    rank 0's batch-norm statistics, the ones its checkpoint stores."""
    if ctx.world > 1:
        for buffer in model.buffers():
            dist.broadcast(buffer, 0)
    model.eval()
    loss_fn = torch.nn.CrossEntropyLoss(reduction="sum")
    loss_sum, correct = 0.0, 0
    share = range(ctx.rank * batch, len(labels), ctx.world * batch)
    with torch.no_grad():
        for start in share:
            x = images[start:start + batch]
            y = labels[start:start + batch]
            out = model(x)
            loss_sum += loss_fn(out, y).item()
            correct += (out.argmax(1) == y).sum().item()
    loss_sum, correct = ctx.sum(loss_sum, correct)
    model.train()
    return loss_sum / len(labels), correct / len(labels)


def main(argv=None) -> int:
    args = parse_args(argv)
    ctx = Distributed(args.device)
    try:
        status = train(args, ctx)
        ctx.finish()
        return status
    except (DataError, ModelSpecError, RunDirectoryError) as error:
        print(f"train.py: {error}", file=sys.stderr)
        return 1
    finally:
        ctx.close()


def train(args, ctx: Distributed) -> int:
    if args.batch % ctx.world:
        raise DataError(f"--batch {args.batch} does not split evenly over {ctx.world} processes")
    local_batch = args.batch // ctx.world
    data = load_data(data_source(args.data), train_limit=args.train_limit)
    steps_per_epoch = len(data.train_labels) // args.batch
    if steps_per_epoch < 1:
        raise DataError(f"{len(data.train_labels)} training images make no batch of {args.batch}")
    total_steps = steps_per_epoch * args.epochs

    torch.manual_seed(args.seed)
    model = SpecNet(args.model, classes=len(data.classes))
    recipe.initialize(model)
    spec_text = model.spec.text
    model = model.to(ctx.device, memory_format=torch.channels_last)
    train_x = normalize(data.train_images).to(ctx.device)
    train_y = data.train_labels.to(ctx.device)
    test_x = normalize(data.test_images).to(ctx.device).contiguous(memory_format=torch.channels_last)
    test_y = data.test_labels.to(ctx.device)
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[ctx.device] if ctx.device.type == "cuda" else None) \
        if ctx.world > 1 else model
    opt = recipe.optimizer(model, args.lr)
    sched = recipe.schedule(opt, args.lr, total_steps)
    loss_fn = recipe.loss_function()
    augment = torch.Generator().manual_seed(args.seed * 1009 + ctx.rank + 1)

    writer = None
    if args.run_dir:
        writer = RunWriter(args.run_dir, spec=spec_text, classes=data.classes, dataset=data.name, epochs=args.epochs,
                           steps_per_epoch=steps_per_epoch, batch=args.batch, rank=ctx.rank,
                           info={"world_size": ctx.world, "device": ctx.device.type, "lr": args.lr, "seed": args.seed,
                                 "recipe": "train_reference"})
    if ctx.main:
        print(f"model: {spec_text}, {sum(p.numel() for p in model.parameters()):,} parameters", file=sys.stderr)
        print(f"data: {data.name}, {len(train_y):,} train, {len(test_y):,} test; {ctx.world} process(es) on "
              f"{ctx.device.type}, batch {args.batch} ({local_batch} each), {steps_per_epoch} steps/epoch", file=sys.stderr)

    step = 0
    started = time.monotonic()
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(train_y), generator=torch.Generator().manual_seed(args.seed * 7919 + epoch))
        epoch_start = time.monotonic()
        window = [0.0, 0.0, 0.0]  # loss sum, correct, images since the last metrics line
        epoch_sums = [0.0, 0.0, 0.0]
        window_start = time.monotonic()
        for i in range(steps_per_epoch):
            batch = order[i * args.batch:(i + 1) * args.batch]
            mine = batch[ctx.rank * local_batch:(ctx.rank + 1) * local_batch].to(ctx.device)
            x = recipe.crop_and_flip(train_x[mine], augment).contiguous(memory_format=torch.channels_last)
            y = train_y[mine]
            out = net(x)
            loss = loss_fn(out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            lr = sched.get_last_lr()[0]
            sched.step()
            step += 1
            window[0] += loss.detach() * len(y)
            window[1] += (out.detach().argmax(1) == y).sum()
            window[2] += len(y)
            if step % args.log_every == 0 or i + 1 == steps_per_epoch:
                loss_sum, correct, seen = ctx.sum(float(window[0]), float(window[1]), window[2])
                now = time.monotonic()
                rate = seen / max(now - window_start, 1e-9)
                if writer:
                    writer.log_train(step, epoch, loss_sum / seen, correct / seen, lr, rate)
                epoch_sums = [a + b for a, b in zip(epoch_sums, (loss_sum, correct, seen))]
                window, window_start = [0.0, 0.0, 0.0], now
            if writer and args.checkpoint_every and step % args.checkpoint_every == 0 and i + 1 != steps_per_epoch:
                writer.save_checkpoint(model, step, epoch - 1)
        seconds = time.monotonic() - epoch_start
        test_loss, test_acc = evaluate(model, test_x, test_y, ctx)
        train_loss, train_acc = epoch_sums[0] / epoch_sums[2], epoch_sums[1] / epoch_sums[2]
        speed = epoch_sums[2] / max(seconds, 1e-9)
        if writer:  # the checkpoint first: a reader who sees the eval line finds it
            writer.save_checkpoint(model, step, epoch)
            writer.log_eval(step, epoch, test_loss, test_acc, loss=train_loss, accuracy=train_acc, lr=lr,
                            images_per_s=speed, epoch_seconds=round(seconds, 3))
        if ctx.main:
            print(f"{'[SYNTHETIC] ' if data.name == 'SYNTHETIC' else ''}epoch {epoch}/{args.epochs}  train loss {train_loss:.4f} "
                  f"acc {train_acc * 100:.2f}%  test loss {test_loss:.4f} acc {test_acc * 100:.2f}%  lr {lr:.5f}  "
                  f"{seconds:.1f} s  {speed:.0f} img/s", flush=True)
    if ctx.main:
        where = f"; run directory {args.run_dir}" if args.run_dir else ""
        print(f"final test accuracy {test_acc * 100:.2f}% after {args.epochs} epochs, "
              f"{time.monotonic() - started:.1f} s{where}", flush=True)
    if writer:
        writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
