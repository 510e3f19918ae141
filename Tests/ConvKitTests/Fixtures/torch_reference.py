"""PyTorch's answers for a ConvScope checkpoint: logits and Grad-CAM maps, for the equality tests.

usage: python torch_reference.py CHECKPOINT INPUTS OUT_JSON
  CHECKPOINT  a ConvScope .safetensors checkpoint (the spec is in its metadata)
  INPUTS      a .safetensors file with `images` [N, 3, 32, 32] float32 (normalised, NCHW)
  OUT_JSON    written with {"logits": [[...]], "gradcam": [{"image", "layer", "class", "map", "terms"}]}

It builds the model with ../shared/bench/specnet.py (found through SPECNET_DIR or ../../../../shared/bench),
loads the checkpoint with load_state_dict (strict, optimizer.* dropped) and computes Grad-CAM with the
straightforward formula: alpha_k = mean over positions of d(logit_c)/dA_k, map = ReLU(sum_k alpha_k A_k).
`terms` is the largest sum_k |alpha_k A_k| over the positions: the size of what the map's sums add up, which
bounds their rounding error where the map itself cancels to almost nothing.
"""
import json, os, sys
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("SPECNET_DIR", os.path.join(here, "../../../../shared/bench")))
from specnet import SpecNet  # noqa: E402


def grad_cam(model, x, layer, cls):
    acts = {}

    def hook(_module, _inputs, output):
        output.retain_grad()
        acts["a"] = output

    handle = model.get_submodule(layer).register_forward_hook(hook)
    y = model(x)
    handle.remove()
    model.zero_grad()
    y[0, cls].backward()
    a, g = acts["a"], acts["a"].grad
    alpha = g.mean(dim=(2, 3), keepdim=True)
    terms = (alpha * a).abs().sum(1).max().item()
    return F.relu((alpha * a).sum(1))[0].detach(), terms


def main():
    checkpoint, inputs, out = sys.argv[1:4]
    torch.set_num_threads(1)
    spec = safe_open(checkpoint, "pt").metadata()["spec"]
    state = {k: v for k, v in load_file(checkpoint).items() if not k.startswith("optimizer.")}
    model = SpecNet(spec)
    model.load_state_dict(state, strict=True)
    model.eval()
    images = load_file(inputs)["images"]
    captured = {}
    with torch.no_grad():
        logits = model(images, capture=captured)
    spatial = [name for name, _ in model.order if captured[name].dim() == 4]
    maps = []
    for i in range(images.shape[0]):
        x = images[i:i + 1].clone()
        for j, layer in enumerate(spatial):
            cls = (i + j) % logits.shape[1]
            cam, terms = grad_cam(model, x, layer, cls)
            maps.append({"image": i, "layer": layer, "class": cls, "map": cam.tolist(), "terms": terms})
    with open(out, "w") as f:
        json.dump({"spec": spec, "logits": logits.tolist(), "gradcam": maps}, f)


if __name__ == "__main__":
    main()
