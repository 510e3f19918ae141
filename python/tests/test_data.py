"""Data: the synthetic generator's own properties (its byte equality with the engine is checked by the
engine's end-to-end tests, which draw both), the CIFAR-10 reader and normalisation, and the recipe's crop."""

import os

import numpy as np
import torch

from convscope_torch import DataError, load_cifar10, normalize, synthetic
from convscope_torch.data import MEAN, STD, read_cifar_batch
from convscope_torch.random_source import RandomStreams
from convscope_torch import recipe

from support import TemporaryFolder


class SyntheticTests(TemporaryFolder):
    def test_labels_cycle_and_every_class_is_drawn_distinctly(self):
        pixels, labels = synthetic.images(0, 0, 40)
        self.assertEqual(pixels.shape, (40, 3, 32, 32))
        self.assertEqual(labels.tolist(), [i % 10 for i in range(40)])
        self.assertEqual(len({pixels[i].tobytes() for i in range(40)}), 40)

    def test_an_image_depends_on_seed_split_and_index_only(self):
        a, _ = synthetic.images(3, 1, 57, chunk=16)
        b, _ = synthetic.images(3, 1, 23)
        self.assertTrue(np.array_equal(a[:23], b), "a prefix is the same whatever the count or chunking")
        c, _ = synthetic.images(4, 1, 23)
        d, _ = synthetic.images(3, 0, 23)
        self.assertFalse(np.array_equal(b, c))
        self.assertFalse(np.array_equal(b, d))

    def test_the_random_streams_are_xoshiro256starstar_seeded_by_splitmix64(self):
        # The first outputs of xoshiro256** seeded through SplitMix64 from 0 (the reference C code's).
        rng = RandomStreams(np.array([0], dtype=np.uint64))
        s = [int(v) for v in rng.s[:, 0]]
        self.assertEqual(s[0], 0xE220A8397B1DCDAF)

        def rotl(x, k):
            return ((x << k) | (x >> (64 - k))) & (2**64 - 1)

        for _ in range(5):
            expected = (rotl((s[1] * 5) & (2**64 - 1), 7) * 9) & (2**64 - 1)
            t = (s[1] << 17) & (2**64 - 1)
            s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45)
            self.assertEqual(int(rng.next()[0]), expected)

    def test_the_command_writes_cifar_records(self):
        out = self.path("s.bin")
        self.assertEqual(synthetic.main(["--seed", "2", "--split", "test", "--count", "12", "--out", out]), 0)
        pixels, labels = read_cifar_batch(out)
        expected, expected_labels = synthetic.images(2, 1, 12)
        self.assertTrue(np.array_equal(pixels, expected))
        self.assertEqual(labels.tolist(), expected_labels.tolist())


class CIFARTests(TemporaryFolder):
    def write_batches(self, records=2, label=3):
        rng = np.random.default_rng(0)
        for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
            data = rng.integers(0, 256, size=(records, 3073), dtype=np.uint8)
            data[:, 0] = label
            data.tofile(self.path(name))

    def test_reads_the_binary_batches(self):
        self.write_batches()
        data = load_cifar10(self.folder)
        self.assertEqual(tuple(data.train_images.shape), (10, 3, 32, 32))
        self.assertEqual(tuple(data.test_images.shape), (2, 3, 32, 32))
        self.assertEqual(data.name, "CIFAR-10")
        self.assertEqual(data.classes[3], "cat")
        raw = np.fromfile(self.path("data_batch_1.bin"), dtype=np.uint8).reshape(-1, 3073)
        self.assertTrue(np.array_equal(data.train_images[0].numpy().ravel(), raw[0, 1:]))
        self.assertEqual(len(load_cifar10(self.folder, train_limit=3).train_labels), 3)

    def test_damaged_files_are_refused_with_their_name(self):
        self.write_batches(label=12)
        with self.assertRaisesRegex(DataError, "data_batch_1.bin' record 0 has label 12"):
            load_cifar10(self.folder)
        self.write_batches()
        with open(self.path("test_batch.bin"), "ab") as file:
            file.write(b"x")
        with self.assertRaisesRegex(DataError, "test_batch.bin' has 6147 bytes"):
            load_cifar10(self.folder)
        os.remove(self.path("data_batch_4.bin"))
        with self.assertRaisesRegex(DataError, "lacks data_batch_4.bin"):
            load_cifar10(self.folder)

    def test_normalisation_is_the_engines_formula(self):
        images = torch.arange(256, dtype=torch.uint8).repeat(3, 1).view(1, 3, 16, 16)
        x = normalize(images)
        for c in range(3):
            expected = (np.arange(256, dtype=np.float32) / np.float32(255) - np.float32(MEAN[c])) / np.float32(STD[c])
            self.assertTrue(np.array_equal(x[0, c].numpy().ravel(), expected))


class RecipeTests(TemporaryFolder):
    def test_each_crop_is_a_window_of_the_padded_image_maybe_mirrored(self):
        images = torch.randn(6, 3, 32, 32)
        out = recipe.crop_and_flip(images, torch.Generator().manual_seed(1))
        padded = torch.nn.functional.pad(images, (4, 4, 4, 4))
        for i in range(6):
            windows = [padded[i, :, y:y + 32, x:x + 32] for y in range(9) for x in range(9)]
            found = any(torch.equal(out[i], w) or torch.equal(out[i], w.flip(2)) for w in windows)
            self.assertTrue(found, f"image {i} is no window of its padded original")
