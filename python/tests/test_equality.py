"""The same checkpoint scores the same in PyTorch and in ConvScope: for every preset and every kind of
token, a checkpoint written here with random weights and batch-norm statistics is read by ``convscope
predict``, whose logits must equal this module's on the same synthetic test images."""

import unittest

import torch

from convscope_torch import PRESETS, SpecNet, load_checkpoint, load_synthetic, normalize, save_checkpoint

from support import TemporaryFolder, convscope_json, require_convscope

SPECS = dict(PRESETS)
SPECS["zoo"] = ("conv8k5s1p2,bn,leakyrelu0.2,conv12k3s2p0,elu0.5,avgpool2s1,selu,swish,dropout2d0.1,res12s2m6,"
                "gelu,sigmoid,conv16,tanh,maxpool3s2,relu,flatten,dropout,fc16,relu,fc10")
IMAGES = 4


def randomize(model: torch.nn.Module, seed: int) -> None:
    """Weights as initialised, and batch-norm layers given statistics and affine terms far from 0 and 1."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                n = module.num_features
                module.running_mean.copy_(torch.randn(n, generator=generator) * 0.2)
                module.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
                module.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(n, generator=generator) * 0.2)
                module.num_batches_tracked.fill_(7)


class EqualityTests(TemporaryFolder):
    def test_logits_equal_the_engines_on_the_same_checkpoint(self):
        binary = require_convscope(self)
        images = normalize(load_synthetic(train_count=0, test_count=IMAGES).test_images)
        for index, (name, spec) in enumerate(SPECS.items()):
            with self.subTest(model=name):
                torch.manual_seed(index)
                model = SpecNet(spec)
                randomize(model, index)
                model.eval()
                path = save_checkpoint(self.path(f"{name}.safetensors"), model, spec=model.spec.text, step=3, epoch=0,
                                       classes=[str(c) for c in range(10)], dataset="SYNTHETIC")
                with torch.no_grad():
                    ours = model(images).double()
                answer = convscope_json(self, binary, "predict", "--checkpoint", path, "--data", "synthetic",
                                        "--index", *[str(i) for i in range(IMAGES)], "--json")
                theirs = torch.tensor([image["logits"] for image in answer["images"]], dtype=torch.float64)
                scale = torch.clamp(theirs.abs(), min=1)
                worst = ((ours - theirs).abs() / scale).max().item()
                self.assertLessEqual(worst, 1e-4, f"{name}: logits differ by {worst:.2e} (relative)")

                # And the file reads back here as it was written.
                again, metadata = load_checkpoint(path)
                self.assertEqual(metadata["step"], "3")
                with torch.no_grad():
                    self.assertTrue(torch.equal(again(images), model(images)))


if __name__ == "__main__":
    unittest.main()
