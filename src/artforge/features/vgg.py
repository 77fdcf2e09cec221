"""VGG19's convolutional layers, loaded from a weights file the user brings, tapped for style transfer.

VGG19 is configuration "E" of Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale
Image Recognition" (ICLR 2015): five stages of 3x3 convolutions (2, 2, 4, 4, 4 of them), each followed
by a ReLU, with a 2x2 max-pool closing every stage. Gatys, Ecker & Bethge, "Image Style Transfer Using
Convolutional Neural Networks" (CVPR 2016) measure style as Gram matrices at relu1_1 ... relu5_1 and
content at relu4_2; those are the default taps here.

No VGG weights ship with artforge and nothing is downloaded: `load_vgg19` reads a file in the layout
torchvision's `vgg19` saves (`features.{i}.weight/bias`; a converted safetensors file works too) and
infers the channel widths from the tensors, so any network of this shape loads. Images go in as [0, 1]
RGB and are normalized with the ImageNet mean and std such files were trained with.

    >>> net = load_vgg19("vgg19-dcbb9e9d.pth")                                    # doctest: +SKIP
    >>> taps = VGGTaps(net, ("relu1_1", "relu4_2"))                               # doctest: +SKIP
    >>> {k: tuple(v.shape) for k, v in taps(torch.rand(1, 3, 64, 64)).items()}    # doctest: +SKIP
    {'relu1_1': (1, 64, 64, 64), 'relu4_2': (1, 512, 8, 8)}
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from .extract import FeatureNetError

ARCH = "vgg19"
STAGES = (2, 2, 4, 4, 4)                    # 3x3 convolutions per stage, configuration E
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")       # Gatys et al. 2016
CONTENT_LAYERS = ("relu4_2",)
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)                      # ImageNet, torchvision's
SUFFIXES = (".safetensors", ".pth", ".pt", ".bin")


def _layout() -> tuple[dict[str, int], list[int]]:
    """Layer name -> index in `features`, as torchvision numbers it, and the indices of the convolutions."""
    names, convs, i = {}, [], 0
    for stage, n in enumerate(STAGES, start=1):
        for k in range(1, n + 1):
            names[f"conv{stage}_{k}"], names[f"relu{stage}_{k}"] = i, i + 1
            convs.append(i)
            i += 2
        names[f"pool{stage}"] = i
        i += 1
    return names, convs


LAYERS, CONV_INDICES = _layout()            # conv1_1 -> 0, relu1_1 -> 1, ..., relu5_4 -> 35, pool5 -> 36
DEPTH = max(LAYERS.values()) + 1            # 37 modules: features.0 ... features.36


def layer_stride(name: str) -> int:
    """Input pixels per position of a layer: 1 for relu1_1, 2 for relu2_1, ... 16 for relu5_1, 32 for pool5."""
    stage = int(name[-3]) if name.startswith(("conv", "relu")) else int(name[-1]) + 1
    return 2 ** (stage - 1)


class VGG19Features(nn.Module):
    """`features` as torchvision has it, with channel widths given per convolution (16 of them)."""

    def __init__(self, widths: list[int]):
        super().__init__()
        if len(widths) != len(CONV_INDICES):
            raise ValueError(f"VGG19 has {len(CONV_INDICES)} convolutions, got {len(widths)} widths")
        self.widths = list(widths)
        layers: list[nn.Module] = []
        c_in, convs = 3, iter(widths)
        for i in range(DEPTH):
            if i in CONV_INDICES:
                c_out = next(convs)
                layers.append(nn.Conv2d(c_in, c_out, 3, padding=1))
                c_in = c_out
            elif i - 1 in CONV_INDICES:
                layers.append(nn.ReLU())             # not in place: a tap may hold the conv's output
            else:
                layers.append(nn.MaxPool2d(2, 2))
        self.features = nn.Sequential(*layers)
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1), persistent=False)

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        return (images - self.mean) / self.std               # (B, 3, H, W) in [0, 1] -> ImageNet-normalized

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.features(self.normalize(images))         # (B, C5, H/32, W/32)


def _read(path: Path) -> dict:
    """The file's tensors by name; every failure becomes one FeatureNetError naming the file."""
    fix = "give a VGG19 state dict saved by torch.save or as safetensors"
    if not path.is_file():
        raise FeatureNetError(f"VGG19 weights not found: {path}")
    if path.suffix.lower() not in SUFFIXES:
        raise FeatureNetError(f"{path}: not a weights file (expected {', '.join(SUFFIXES)}); {fix}")
    try:
        if path.suffix.lower() == ".safetensors":
            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if "Unsupported global" not in str(e):              # not a pickle at all: the general message below
            raise FeatureNetError(f"{path}: could not be read as weights (not a torch.save file); {fix}") from None
        raise FeatureNetError(f"{path}: holds Python objects besides tensors, which artforge never unpickles "
                              f"(torch.load weights_only=True refuses them); {fix}") from None
    except Exception as e:  # a damaged zip, a text file, a bad safetensors header: all mean a bad file
        raise FeatureNetError(f"{path}: could not be read as weights ({type(e).__name__}); {fix}") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise FeatureNetError(f"{path}: holds a {type(state).__name__}, not a state dict; {fix}")
    return state


def _check(path: Path, state: dict) -> tuple[dict[str, torch.Tensor], list[int]]:
    """The `features.*` tensors as float32 and the 16 conv widths, or a FeatureNetError saying what is wrong."""
    state = {str(k).removeprefix("module."): v for k, v in state.items()}
    state = {k: v for k, v in state.items() if not k.startswith("classifier.")}
    want = {f"features.{i}.{p}" for i in CONV_INDICES for p in ("weight", "bias")}
    missing, extra = sorted(want - state.keys()), sorted(state.keys() - want)
    if missing or extra:
        what = "; ".join(f"{label} {', '.join(keys[:3])}{' …' if len(keys) > 3 else ''}"
                         for label, keys in (("missing", missing), ("unexpected", extra)) if keys)
        raise FeatureNetError(f"{path}: not VGG19 weights in torchvision's layout ({what}); give a vgg19 (not "
                              "vgg16 or vgg19_bn) state dict")
    widths, c_in = [], 3
    for i in CONV_INDICES:
        w, b = state[f"features.{i}.weight"], state[f"features.{i}.bias"]
        ok = (torch.is_tensor(w) and torch.is_tensor(b) and w.is_floating_point() and w.dim() == 4
              and tuple(w.shape[1:]) == (c_in, 3, 3) and b.dim() == 1 and b.shape[0] == w.shape[0])
        if not ok:
            shape = tuple(w.shape) if torch.is_tensor(w) else type(w).__name__
            raise FeatureNetError(f"{path}: features.{i}.weight has shape {shape}, not (C_out, {c_in}, 3, 3) "
                                  "with a matching bias; this is not a VGG19 weights file")
        widths.append(int(w.shape[0]))
        c_in = widths[-1]
    return {k: v.float() for k, v in state.items()}, widths


def load_vgg19(path: str | Path, device: str | torch.device = "cpu") -> VGG19Features:
    """VGG19's convolutional part from a .safetensors/.pth/.pt/.bin file, in eval mode, frozen.

    Never unpickles anything but tensors (`torch.load(weights_only=True)`); any problem with the file is a
    one-line FeatureNetError (a UserError) naming it.
    """
    path = Path(path).expanduser()
    state, widths = _check(path, _read(path))
    net = VGG19Features(widths)
    net.load_state_dict(state)
    return net.eval().requires_grad_(False).to(device)


class VGGTaps:
    """`taps(images)` -> {name: activation} for images (B, 3, H, W) in [0, 1] RGB; gradients flow through.

    The network runs only up to the deepest layer asked for. `pool="avg"` swaps the max-pools for average
    pools, which Gatys et al. found gives slightly smoother results (the weights stay the same).
    """

    def __init__(self, net: VGG19Features, layers: tuple[str, ...] | list[str], pool: str = "max"):
        bad = [name for name in layers if name not in LAYERS]
        if bad or not layers:
            raise ValueError(f"unknown VGG19 layer(s) {bad or '(none given)'}; layers are: {', '.join(LAYERS)}")
        if pool not in ("max", "avg"):
            raise ValueError(f"pool must be 'max' or 'avg', got {pool!r}")
        self.net, self.layers, self.pool = net, tuple(layers), pool
        self.device = next(net.parameters()).device
        self.index = {LAYERS[name]: name for name in self.layers}
        self.last = max(self.index)

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        x, out = self.net.normalize(images.to(self.device)), {}        # (B, 3, H, W)
        for i, module in enumerate(self.net.features[: self.last + 1]):
            if self.pool == "avg" and isinstance(module, nn.MaxPool2d):
                x = F.avg_pool2d(x, 2, 2)
            else:
                x = module(x)                                           # pools halve H and W
            if i in self.index:
                out[self.index[i]] = x
        return {name: out[name] for name in self.layers}
