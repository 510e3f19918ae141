"""The spec language: what parses, the modules and tensor names it builds, and the engine's own words
for what it refuses (checked against ``convscope summary`` when the binary is there)."""

import unittest

import torch

from convscope_torch import PRESETS, ModelSpecError, SpecNet, parse

from support import convscope_json, require_convscope, run_convscope

BAD_SPECS = [
    "",
    "conv16,,relu,gap,fc10",
    "conv,relu,gap,fc10",
    "conv16k3p2,gap,fc10",
    "conv16,pool,gap,fc10",
    "conv16,relu,gap,fc10x",
    "conv0,gap,fc10",
    "dropout1.5,conv8,gap,fc10",
    "conv16,maxpool,maxpool,maxpool,maxpool,maxpool,maxpool,gap,fc10",
    "conv8,gap,conv8,fc10",
    "conv8,gap,fc12",
    "conv8,relu",
    "res,gap,fc10",
    "conv70000,gap,fc10",
    "conv8k2000,gap,fc10",
    "conv8p2000,gap,fc10",
    "conv8,gap,fc99999999999999999999999",
    "conv8,leakyrelu1e39,gap,fc10",
    "conv8,gap,dropout1e40,fc10",
    "conv8," * 2000 + "gap,fc10",
]


class SpecTests(unittest.TestCase):
    def test_presets_parse_and_end_in_ten_scores(self):
        for name, text in PRESETS.items():
            spec = parse(name.upper() + " ")
            self.assertEqual(spec.text, text)
            self.assertEqual(spec.preset, name)
            model = SpecNet(name).eval()
            self.assertEqual(tuple(model(torch.zeros(2, 3, 32, 32)).shape), (2, 10), name)

    def test_layer_and_tensor_names_are_the_engines(self):
        model = SpecNet("resnet20")
        names = model.state_dict().keys()
        for expected in ["conv1.weight", "bn1.running_var", "bn1.num_batches_tracked", "res1.conv1.weight",
                         "res4.shortcut.conv.weight", "res4.shortcut.bn.bias", "fc1.weight", "fc1.bias"]:
            self.assertIn(expected, names)
        self.assertNotIn("conv1.bias", names, "no bias on a conv followed by bn")
        self.assertNotIn("res1.shortcut.conv.weight", names, "no projection when the shape stays")
        self.assertEqual([n for n, _ in SpecNet("tiny").layers],
                         ["conv1", "relu1", "maxpool1", "conv2", "relu2", "maxpool2", "conv3", "relu3", "gap1", "fc1"])
        self.assertIn("conv1.bias", SpecNet("tiny").state_dict())

    def test_every_token_of_the_grammar(self):
        spec = ("conv8k5s1p2,bn,leakyrelu0.2,conv8k3s2p0,elu0.5,avgpool2s1,selu,swish,dropout2d0.1,res12s2m6,"
                "gelu,sigmoid,tanh,maxpool3s2,relu,flatten,dropout,fc16,fc10")
        model = SpecNet(spec).eval()
        self.assertEqual(tuple(model(torch.randn(1, 3, 32, 32)).shape), (1, 10))
        self.assertEqual(model.conv1.padding, (2, 2))
        self.assertEqual(model.leakyrelu1.negative_slope, 0.2)
        self.assertEqual(model.elu1.alpha, 0.5)
        self.assertEqual(model.res1.conv1.out_channels, 6, "m sets the middle width")
        self.assertEqual(model.res1.conv2.out_channels, 12)
        self.assertEqual((model.avgpool1.kernel_size, model.avgpool1.stride), (2, 1))
        self.assertEqual(model.dropout2d1.p, 0.1)
        captured = {}
        model(torch.randn(1, 3, 32, 32), capture=captured)
        self.assertEqual(list(captured), [name for name, _ in model.layers])

    def test_refusals_name_the_token(self):
        with self.assertRaises(ModelSpecError) as caught:
            SpecNet("conv16,pool,gap,fc10")
        self.assertEqual(str(caught.exception), "bad model spec at token 2 'pool': unknown layer; expected one of "
                         "conv, bn, relu, leakyrelu, elu, selu, swish, gelu, sigmoid, tanh, maxpool, avgpool, gap, "
                         "flatten, dropout, dropout2d, fc, res")
        self.assertEqual(caught.exception.token_index, 1)

    def test_refusals_are_worded_as_the_engine_words_them(self):
        binary = require_convscope(self)
        for text in BAD_SPECS:
            with self.subTest(spec=text[:60]):
                with self.assertRaises(ModelSpecError) as caught:
                    SpecNet(text)
                result = run_convscope(binary, "summary", "--model", text)
                self.assertNotEqual(result.returncode, 0)
                self.assertIn(str(caught.exception), result.stderr)

    def test_parameter_counts_are_the_engines(self):
        binary = require_convscope(self)
        for name in PRESETS:
            summary = convscope_json(self, binary, "summary", "--model", name, "--json")
            ours = sum(p.numel() for p in SpecNet(name).parameters())
            self.assertEqual(ours, summary["total_params"], name)


if __name__ == "__main__":
    unittest.main()
