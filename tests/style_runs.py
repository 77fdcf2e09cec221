"""Tiny style-model run folders with random weights, for tests of the style pipelines and CLI."""

from __future__ import annotations

import torch

from artforge.config import to_dict
from artforge.io.weights import CONFIG_NAME, WEIGHTS_NAME, save_config, save_weights
from artforge.models.stylenet import AdaINConfig, StyleDecoder, TransformConfig, TransformNet


def make_run(folder, arch: str, seed: int = 0):
    """A style run folder with random weights (what training writes: config.json + model.safetensors)."""
    torch.manual_seed(seed)
    if arch == "adain-lite0":
        config = AdaINConfig(widths=(8, 8, 16), deep_convs=1, style_px=64)
        net = StyleDecoder(config)
    else:
        config = TransformConfig(widths=(4, 8, 8), res_blocks=1)
        net = TransformNet(config)
        for m in net.modules():                    # a network that is not the identity, so tiling is tested
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.normal_(m.weight, std=0.2)
    folder.mkdir(parents=True)
    save_config({"family": "style", "arch": arch, "model": to_dict(config)}, folder / CONFIG_NAME)
    save_weights(net, folder / WEIGHTS_NAME)
    return folder
