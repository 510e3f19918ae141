"""The reference libraries' answers for ConvScope's explanation methods, on a ConvScope checkpoint.

usage: python attribution_reference.py CHECKPOINT INPUTS OUT_PREFIX
       python attribution_reference.py --check
  CHECKPOINT  a ConvScope .safetensors checkpoint (the spec is in its metadata)
  INPUTS      a .safetensors file with `images` [N, 3, 32, 32] float32 (normalised, NCHW); the first two are used
  OUT_PREFIX  writes OUT_PREFIX.json (the cases) and OUT_PREFIX.safetensors (their tensors)

CAM family: pytorch-grad-cam (grad-cam 1.5.7) classes, raw `get_cam_image` output after its ReLU, at the layer's
resolution (before its min-max scaling and resizing). Eigen-CAM's projection gets the sign correction ConvScope
applies (flip when |min| > |max|), since an SVD's sign is arbitrary. Ablation-CAM runs with batch_size=1, so that
its ablation value (min - 1e7 for layers with negative outputs) is applied once per channel, as ConvScope does.

Pixel attribution: Captum 0.9 (Saliency, IntegratedGradients with its default Gauss-Legendre rule and
return_convergence_delta, GuidedBackprop, GuidedGradCam, Occlusion with a zero baseline). SmoothGrad is the mean of
Captum's Saliency over noise drawn here (NoiseTunnel draws its own noise, which ConvScope cannot replay), and RISE
the authors' formula over masks drawn here; both noise and masks go into OUT_PREFIX.safetensors for ConvScope to use.
The residual blocks of specnet.py use F.relu, which Captum's GuidedBackprop cannot hook: here they use nn.ReLU
modules instead (same values), so that guided backpropagation passes every ReLU, as in ConvScope.
"""
import json, math, os, sys, types
import numpy as np

# pytorch-grad-cam imports torchvision for image helpers these tests never call; the CPU torch wheel has no
# matching torchvision, so stand-ins take its place.
if "torchvision" not in sys.modules:
    try:
        import torchvision  # noqa: F401
    except Exception:
        tv = types.ModuleType("torchvision")
        tv.transforms = types.ModuleType("torchvision.transforms")
        tv.transforms.functional = types.ModuleType("torchvision.transforms.functional")
        for name in ("Compose", "Normalize", "ToTensor"):
            setattr(tv.transforms, name, object)
        tv.transforms.functional.resize = None
        sys.modules.update({"torchvision": tv, "torchvision.transforms": tv.transforms,
                            "torchvision.transforms.functional": tv.transforms.functional})

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from pytorch_grad_cam import (GradCAM, GradCAMPlusPlus, LayerCAM, HiResCAM, XGradCAM, ScoreCAM, AblationCAM, EigenCAM)
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection
from captum.attr import Saliency, IntegratedGradients, GuidedBackprop, GuidedGradCam, Occlusion

if len(sys.argv) > 1 and sys.argv[1] == "--check":
    sys.exit(0)

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("SPECNET_DIR", os.path.join(here, "../../../../shared/bench")))
import specnet  # noqa: E402

MEAN = [0.4914, 0.4822, 0.4465]
STD = [0.2470, 0.2435, 0.2616]
CAMS = {"gradcam": GradCAM, "gradcam++": GradCAMPlusPlus, "layercam": LayerCAM, "hirescam": HiResCAM,
        "xgradcam": XGradCAM, "scorecam": ScoreCAM, "ablationcam": AblationCAM, "eigencam": EigenCAM}


def res_forward(self, x):
    y = self.relu_a(self.bn1(self.conv1(x)))
    y = self.bn2(self.conv2(y))
    s = self.shortcut.bn(self.shortcut.conv(x)) if self.proj else x
    return self.relu_b(y + s)


def cam_map(model, name, x, layer, cls):
    module = model.get_submodule(layer)
    kwargs = {"batch_size": 1} if name == "ablationcam" else {}
    cam = CAMS[name](model, [module], **kwargs)
    targets = [ClassifierOutputTarget(cls)]
    outputs = cam.activations_and_grads(x)
    if cam.uses_gradients:
        model.zero_grad()
        sum(t(o) for t, o in zip(targets, outputs)).backward(retain_graph=True)
    acts = cam.activations_and_grads.activations[0].cpu().numpy()
    grads = cam.activations_and_grads.gradients[0].cpu().numpy() if cam.uses_gradients else None
    if name == "eigencam":
        raw = get_2d_projection(acts)[0]
        if abs(raw.min()) > abs(raw.max()):
            raw = -raw
    else:
        raw = cam.get_cam_image(x, module, targets, acts, grads, False)[0]
    cam.activations_and_grads.release()
    # The size of what the map's sums add up: bounds their rounding error where the map cancels to almost nothing.
    terms = float(np.abs(acts).sum(1).max() * (np.abs(grads).max() if grads is not None else 1.0))
    return np.maximum(raw, 0).astype(np.float32), terms


def gaussian_blur(image, sigma):
    radius = int(math.ceil(3 * sigma))
    k = np.exp(-np.arange(-radius, radius + 1, dtype=np.float64) ** 2 / (2 * sigma * sigma)).astype(np.float32)
    k /= k.sum()
    out = image.copy()
    for axis in (2, 1):  # x, then y (CHW)
        padded = np.pad(out, [(0, 0)] + [(radius, radius) if a == axis else (0, 0) for a in (1, 2)], mode="edge")
        acc = np.zeros_like(out)
        for t in range(2 * radius + 1):
            sl = [slice(None)] * 3
            sl[axis] = slice(t, t + out.shape[axis])
            acc += k[t] * padded[tuple(sl)]
        out = acc
    return out


def main():
    checkpoint, inputs, prefix = sys.argv[1:4]
    torch.set_num_threads(1)
    spec = safe_open(checkpoint, "pt").metadata()["spec"]
    state = {k: v for k, v in load_file(checkpoint).items() if not k.startswith("optimizer.")}
    model = specnet.SpecNet(spec)
    model.load_state_dict(state, strict=True)
    for module in model.modules():
        if isinstance(module, specnet.Res):
            module.relu_a, module.relu_b = nn.ReLU(), nn.ReLU()
            module.forward = types.MethodType(res_forward, module)
    model.eval()
    images = load_file(inputs)["images"][:2]
    captured = {}
    with torch.no_grad():
        model(images, capture=captured)
    spatial = [name for name, _ in model.order if captured[name].dim() == 4]
    rng = np.random.default_rng(7)
    cases, tensors = [], {}

    def add(kind, tensor, **info):
        key = f"t{len(cases)}"
        tensors[key] = torch.as_tensor(np.ascontiguousarray(tensor, dtype=np.float32))
        cases.append(dict(kind=kind, tensor=key, **info))

    for i in range(images.shape[0]):
        x = images[i:i + 1].clone()
        for j, layer in enumerate(spatial):
            cls = (3 * i + j) % 10
            for name in CAMS:
                cam, terms = cam_map(model, name, x, layer, cls)
                add("cam", cam, image=i, layer=layer, cls=cls, method=name, terms=terms)
        cls = (5 * i + 2) % 10
        add("pixel", Saliency(model).attribute(x, target=cls).detach()[0].numpy(), image=i, cls=cls, method="saliency")
        value_range = float(x.max() - x.min())
        noise = rng.normal(0, 0.15 * value_range, size=(6, 3, 32, 32)).astype(np.float32)
        tensors[f"noise{i}"] = torch.as_tensor(noise)
        noisy = x + torch.as_tensor(noise)
        smooth = Saliency(model).attribute(noisy, target=cls).detach().mean(0).numpy()
        add("pixel", smooth, image=i, cls=cls, method="smoothgrad", noise=f"noise{i}")
        black = torch.tensor([(0 - m) / s for m, s in zip(MEAN, STD)], dtype=torch.float32).view(1, 3, 1, 1).expand_as(x)
        blur = torch.as_tensor(gaussian_blur(x[0].numpy(), 4.0))[None]
        for baseline_name, baseline, steps in (("black", black, 50), ("blur", blur, 20), ("mean", torch.zeros_like(x), 8)):
            attr, delta = IntegratedGradients(model).attribute(
                x, baselines=baseline.contiguous(), target=cls, n_steps=steps, method="gausslegendre", return_convergence_delta=True)
            add("pixel", attr.detach()[0].numpy(), image=i, cls=cls, method="integrated-gradients", baseline=baseline_name,
                steps=steps, delta=float(delta.item()))
        add("pixel", GuidedBackprop(model).attribute(x, target=cls).detach()[0].numpy(), image=i, cls=cls, method="guided-backprop")
        for layer in spatial[::3]:
            attr = GuidedGradCam(model, model.get_submodule(layer)).attribute(x, target=cls).detach()[0].numpy()
            add("pixel", attr, image=i, cls=cls, method="guided-gradcam", layer=layer)
        for patch, stride in ((8, 2), (5, 3)):
            attr = Occlusion(model).attribute(x, sliding_window_shapes=(3, patch, patch), strides=(3, stride, stride),
                                              target=cls, baselines=0).detach()[0].numpy()
            add("pixel", attr, image=i, cls=cls, method="occlusion", patch=patch, stride=stride)
        masks = rng.uniform(0, 1, size=(40, 32, 32)).astype(np.float32)
        tensors[f"masks{i}"] = torch.as_tensor(masks)
        with torch.no_grad():
            probs = F.softmax(model(x * torch.as_tensor(masks)[:, None]), dim=1)[:, cls].numpy()
        rise = (probs[:, None, None] * masks).sum(0) / (len(masks) * 0.5)
        add("pixel", np.broadcast_to(rise, (3, 32, 32)), image=i, cls=cls, method="rise", masks=f"masks{i}", keep=0.5)
    save_file(tensors, prefix + ".safetensors")
    with open(prefix + ".json", "w") as f:
        json.dump({"spec": spec, "cases": cases}, f)


if __name__ == "__main__":
    main()
