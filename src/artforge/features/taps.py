"""Intermediate activations of EfficientNet-Lite0, for losses that compare images inside the network.

A tap is named after the module whose output it reads:

    stem                  (B, 32, H/2, W/2)     after the stem's ReLU6
    blocks.i              block i's output: the linear bottleneck (+ skip), no activation
    blocks.i.expand       inside block i: the 1x1 expansion after ReLU6 (absent in block 0)
    blocks.i.depthwise    inside block i: the kxk depthwise output after ReLU6
    head                  (B, 1280, H/32, W/32) after the head's ReLU6

The network runs only as far as the deepest tap asks, and its modules are used as they are, so its
outputs (logits, pooled features) never change.

    >>> net = load_feature_net()                                               # doctest: +SKIP
    >>> taps = FeatureTaps(net, ("blocks.1.depthwise", "blocks.5"))           # doctest: +SKIP
    >>> {k: tuple(v.shape) for k, v in taps(torch.rand(1, 3, 64, 64)).items()}  # doctest: +SKIP
    {'blocks.1.depthwise': (1, 96, 16, 16), 'blocks.5': (1, 80, 4, 4)}
"""

from __future__ import annotations

import re

import torch
from torch import nn

from .efficientnet_lite import EfficientNetLite0

_TAP = re.compile(r"stem|head|blocks\.(\d+)(?:\.(expand|depthwise))?")


def tap_names(net: EfficientNetLite0) -> list[str]:
    """Every tap `FeatureTaps` accepts for this network, input to output."""
    names = ["stem"]
    for i, block in enumerate(net.blocks):
        if not isinstance(block.expand, nn.Identity):
            names.append(f"blocks.{i}.expand")
        names += [f"blocks.{i}.depthwise", f"blocks.{i}"]
    return names + ["head"]


def tap_stride(net: EfficientNetLite0, name: str) -> int:
    """How many input pixels one position of the tap spans (2 for the stem ... 32 for the head)."""
    stride = net.stem[0].stride[0]
    if name == "stem":
        return stride
    last = len(net.blocks) - 1 if name == "head" else int(name.split(".")[1])
    upto = last if name.endswith(".expand") else last + 1           # the expansion comes before the stride
    for block in net.blocks[:upto]:
        stride *= block.depthwise[0].stride[0]
    return stride


class FeatureTaps:
    """`taps(images)` -> {name: activation} for images (B, 3, H, W) in [0, 1] RGB; gradients flow through."""

    def __init__(self, net: EfficientNetLite0, layers: tuple[str, ...] | list[str]):
        valid = set(tap_names(net))
        bad = [name for name in layers if name not in valid]
        if bad or not layers:
            raise ValueError(f"unknown feature tap(s) {bad or '(none given)'}; taps are: {', '.join(tap_names(net))}")
        self.net, self.layers = net, tuple(layers)
        self.device = next(net.parameters()).device
        blocks = [int(m.group(1)) for m in map(_TAP.fullmatch, self.layers) if m.group(1) is not None]
        self.inside = {int(m.group(1)) for m in map(_TAP.fullmatch, self.layers) if m.group(2)}
        self.last = len(net.blocks) if "head" in self.layers else max(blocks, default=-1)

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        net, want, out = self.net, set(self.layers), {}
        x = net.normalize(images.to(self.device)).contiguous(memory_format=torch.channels_last)
        x = net.stem(x)                                      # (B, 32, H/2, W/2)
        out["stem"] = x
        for i, block in enumerate(net.blocks[: self.last + 1]):
            if i in self.inside:                             # the same computation as MBConv.forward, opened up
                e = block.expand(x)
                if i == self.last and not want & {f"blocks.{i}.depthwise", f"blocks.{i}"}:
                    out[f"blocks.{i}.expand"] = e            # nothing asked beyond this expansion
                    break
                d = block.depthwise(e)
                y = block.project(d)
                y = x + y if block.skip else y
                out[f"blocks.{i}.expand"], out[f"blocks.{i}.depthwise"] = e, d
            else:
                y = block(x)
            out[f"blocks.{i}"] = x = y
        if "head" in want:
            out["head"] = net.head(x)                        # (B, 1280, H/32, W/32)
        return {name: out[name] for name in self.layers}
