"""DCGAN, the classic baseline (Radford, Metz & Chintala 2015, "Unsupervised Representation Learning
with Deep Convolutional Generative Adversarial Networks", arXiv:1511.06434).

As in the paper and the PyTorch reference example: G is a stack of 4x4 stride-2 transposed convs with
BatchNorm + ReLU and a tanh output; D mirrors it with 4x4 stride-2 convs, BatchNorm (not on the first
layer) and LeakyReLU(0.2), ending in a 4x4 valid conv. No biases before BatchNorm, no pooling, no
fully-connected hidden layers, weights N(0, 0.02). D returns logits (the sigmoid lives in the loss).
The defaults (64 px, z_dim 100, widths 8 -> 64..512 channels) are exactly the PyTorch example's
ngf = ndf = 64 network. Train it as the paper did: Adam(lr=2e-4, betas=(0.5, 0.999)) and the
non-saturating loss; real and fake go through D as separate batches (D has BatchNorm).

>>> G = DCGANGenerator(DCGANConfig(resolution=32, g_channels=2))
>>> G(torch.randn(2, 100)).shape
torch.Size([2, 3, 32, 32])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .layers import channels_at, check_gan_config, init_dcgan_, levels


@dataclass
class DCGANConfig:
    """Sizes of DCGAN. Channels at resolution r are ``min(max_channels, width * 256 // r)`` (at least
    8), width = g_channels for G and d_channels for D; the defaults give 512-256-128-64 at 4-32 px.
    """

    resolution: int = 64     # px, a power of two in 16..1024
    z_dim: int = 100
    g_channels: int = 8
    d_channels: int = 8
    max_channels: int = 512

    def __post_init__(self) -> None:
        widths = {"g_channels": self.g_channels, "d_channels": self.d_channels, "max_channels": self.max_channels}
        check_gan_config("dcgan", self.resolution, self.z_dim, widths)

    def g_ch(self, r: int) -> int:
        return channels_at(r, self.g_channels, self.max_channels)

    def d_ch(self, r: int) -> int:
        return channels_at(r, self.d_channels, self.max_channels)


# ------------------------------------------------------------------------------------------- blocks


def up_block(c_in: int, c_out: int) -> nn.Sequential:
    """ConvTranspose 4x4 stride 2 + BatchNorm + ReLU: (B, C_in, H, W) -> (B, C_out, 2H, 2W)."""
    return nn.Sequential(
        nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()
    )


def down_block(c_in: int, c_out: int, norm: bool = True) -> nn.Sequential:
    """Conv 4x4 stride 2 (+ BatchNorm) + LeakyReLU(0.2): (B, C_in, H, W) -> (B, C_out, H/2, W/2)."""
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=False)]
    if norm:
        layers.append(nn.BatchNorm2d(c_out))
    layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


# ------------------------------------------------------------------------------------------- models


class DCGANGenerator(nn.Module):
    """z (B, z_dim) ~ N(0, I) -> image (B, 3, R, R) in [-1, 1]."""

    def __init__(self, config: DCGANConfig):
        super().__init__()
        self.config = config
        c = config
        res = levels(c.resolution)  # [4, 8, ..., R]
        self.project = nn.Sequential(  # the paper's "project and reshape"
            nn.ConvTranspose2d(c.z_dim, c.g_ch(4), 4, bias=False), nn.BatchNorm2d(c.g_ch(4)), nn.ReLU()
        )                                                               # (B, C4, 4, 4)
        self.body = nn.Sequential(*[up_block(c.g_ch(r // 2), c.g_ch(r)) for r in res[1:-1]])  # (B, C_{R/2}, R/2, R/2)
        self.to_rgb = nn.ConvTranspose2d(c.g_ch(res[-2]), 3, 4, stride=2, padding=1, bias=False)  # (B, 3, R, R)
        init_dcgan_(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.project(z[:, :, None, None])    # (B, C4, 4, 4)
        x = self.body(x)                         # (B, C_{R/2}, R/2, R/2)
        return torch.tanh(self.to_rgb(x))        # (B, 3, R, R)


class DCGANDiscriminator(nn.Module):
    """image (B, 3, R, R) -> real/fake logit (B,)."""

    def __init__(self, config: DCGANConfig):
        super().__init__()
        self.config = config
        c = config
        res = levels(c.resolution)[::-1]  # [R, R/2, ..., 4]
        blocks = [down_block(3, c.d_ch(res[1]), norm=False)]             # no BatchNorm on the input layer
        blocks += [down_block(c.d_ch(r), c.d_ch(r // 2)) for r in res[1:-1]]
        self.body = nn.Sequential(*blocks)                                 # (B, C4, 4, 4)
        self.to_logit = nn.Conv2d(c.d_ch(4), 1, 4, bias=False)            # (B, 1, 1, 1)
        init_dcgan_(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.to_logit(self.body(x)).flatten()  # (B,)
