"""Tiny VGG19-shaped weights files for tests (random weights, narrow layers), in torchvision's key layout.

The conv indices are written out here, not taken from artforge, so the tests check artforge's layout
against torchvision's numbering rather than against itself.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import save_file

# torchvision vgg19().features: 3x3 convs at these indices, a ReLU after each, max-pools at 4, 9, 18, 27, 36
CONV_INDICES = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)
WIDTHS = (4, 4, 8, 8, 8, 8, 8, 8, 16, 16, 16, 16, 16, 16, 16, 16)    # stages 4 / 8 / 8 / 16 / 16


def tiny_vgg19_state(seed: int = 0, widths: tuple[int, ...] = WIDTHS) -> dict[str, torch.Tensor]:
    """features.{i}.weight (C_out, C_in, 3, 3) and .bias (C_out,), He-scaled so activations stay O(1)."""
    g = torch.Generator().manual_seed(seed)
    state, c_in = {}, 3
    for i, c_out in zip(CONV_INDICES, widths):
        state[f"features.{i}.weight"] = torch.randn(c_out, c_in, 3, 3, generator=g) * (2 / (9 * c_in)) ** 0.5
        state[f"features.{i}.bias"] = 0.05 * torch.randn(c_out, generator=g)
        c_in = c_out
    return state


def write_tiny_vgg19(path: Path, seed: int = 0, state: dict | None = None) -> Path:
    """The tiny state dict as safetensors or as a torch.save'd dict, by the file's suffix."""
    state = tiny_vgg19_state(seed) if state is None else state
    if path.suffix == ".safetensors":
        save_file(state, str(path))
    else:
        torch.save(state, path)
    return path
