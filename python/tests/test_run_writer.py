"""``RunWriter`` writes the run-directory layout: the manifest, metrics lines (non-finite numbers as
null), atomic checkpoints with ConvScope's metadata, nothing on ranks other than 0, and no second run in
a directory that holds one."""

import json
import math
import os

import torch

from convscope_torch import RunDirectoryError, RunWriter, SpecNet, load_checkpoint, read_metadata

from support import TemporaryFolder

CLASSES = [f"class{i}" for i in range(10)]


def read(path):
    with open(path) as file:
        return file.read()


class RunWriterTests(TemporaryFolder):
    def make(self, **options):
        return RunWriter(self.path("run"), spec="tiny", classes=CLASSES, dataset="SYNTHETIC", **options)

    def test_manifest_metrics_and_checkpoints(self):
        model = SpecNet("tiny")
        with self.make(epochs=3, steps_per_epoch=10, batch=64, info={"world_size": 2}) as writer:
            writer.log_train(1, 1, torch.tensor(2.5), 0.125, 0.01, images_per_s=100.0, grad_norm=float("inf"))
            writer.log_train(2, 1, float("nan"), 0.25, 0.02)
            path = writer.save_checkpoint(torch.nn.parallel.DataParallel(model), step=10, epoch=1)
            writer.log_eval(10, 1, test_loss=2.0, test_accuracy=0.5, loss=2.2, accuracy=0.3)

        manifest = json.loads(read(self.path("run/run.json")))
        self.assertEqual(manifest["format"], "convscope-run")
        self.assertEqual(manifest["version"], 1)
        self.assertEqual(manifest["spec"], "tiny")
        self.assertEqual(manifest["classes"], CLASSES)
        self.assertEqual((manifest["epochs"], manifest["steps_per_epoch"], manifest["batch"]), (3, 10, 64))
        self.assertEqual(manifest["world_size"], 2)

        lines = read(self.path("run/metrics.jsonl")).splitlines()
        records = [json.loads(line) for line in lines]
        self.assertEqual([r["kind"] for r in records], ["train", "train", "eval"])
        self.assertEqual(records[0]["loss"], 2.5)
        self.assertIsNone(records[0]["grad_norm"], "infinity is written as null")
        self.assertIsNone(records[1]["loss"], "NaN is written as null")
        self.assertNotIn("NaN", lines[1])
        self.assertEqual(records[2]["test_accuracy"], 0.5)
        self.assertTrue(all("time" in r for r in records))

        self.assertEqual(os.path.basename(path), "step-000000010.safetensors")
        self.assertEqual(sorted(os.listdir(self.path("run/checkpoints"))), ["step-000000010.safetensors"],
                         "no temporary file is left")
        metadata = read_metadata(path)
        self.assertEqual(metadata["format"], "convscope")
        self.assertEqual(metadata["spec"], model.spec.text, "the preset's expanded spec, as ConvScope stores it")
        self.assertEqual((metadata["step"], metadata["epoch"], metadata["dataset"]), ("10", "1", "SYNTHETIC"))
        self.assertEqual(json.loads(metadata["classes"]), CLASSES)
        again, _ = load_checkpoint(path)
        for name, tensor in model.state_dict().items():
            self.assertTrue(torch.equal(again.state_dict()[name], tensor), name)

    def test_a_directory_holding_a_run_is_refused_unless_resumed(self):
        self.make().close()
        with self.assertRaises(RunDirectoryError):
            self.make()
        with self.make(resume=True) as writer:
            writer.log_train(3, 1, 1.0, 0.5, 0.1)
        self.assertEqual(len(read(self.path("run/metrics.jsonl")).splitlines()), 1)

    def test_ranks_other_than_zero_write_nothing(self):
        writer = self.make(rank=1)
        self.assertFalse(writer.active)
        writer.log_train(1, 1, 1.0, 0.5, 0.1)
        self.assertIsNone(writer.save_checkpoint(SpecNet("tiny"), 1, 0))
        self.assertFalse(os.path.exists(self.path("run")))

    def test_a_record_needs_a_step(self):
        with self.make() as writer:
            with self.assertRaises(ValueError):
                writer.log({"loss": 1.0})
            writer.log({"step": 4, "kind": "custom", "value": math.pi})
        record = json.loads(read(self.path("run/metrics.jsonl")))
        self.assertEqual((record["kind"], record["step"], record["value"]), ("custom", 4, math.pi))
