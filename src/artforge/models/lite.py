"""The "lite" GAN: artforge's default data-efficient GAN for 100-2,000 images at 32-256 px.

Generator after FastGAN (Liu et al. 2021, "Towards Faster and Stabilized GAN Training for
High-fidelity Few-shot Image Synthesis", arXiv:2101.04775): a 4x4 seed from z, then per level a
nearest x2 upsample, conv3x3 + BatchNorm + GLU (two convs at the cheap low levels), skip-layer
excitation (SLE) from the level r/8 into every level r >= 32, and a conv3x3 to RGB with tanh.
FastGAN's noise injection is left out so that G is a pure function of z (sampling then needs nothing
but an explicit torch.Generator for z).

Discriminator: small and spectrally normalised (Miyato et al. 2018): a strided conv from RGB,
residual down-blocks (conv4x4/2 + LeakyReLU averaged with avg-pool + conv1x1) to 4x4, a minibatch
std-dev channel (Karras et al. 2018) and a conv + two linears to one logit. No BatchNorm in D.
FastGAN's self-supervised reconstruction decoders are replaced by DiffAugment + ADA
(training/augment.py), which do the same job (stop D memorising a small set) at no extra compute.

>>> G = LiteGenerator(LiteGANConfig(resolution=32, g_channels=4))
>>> D = LiteDiscriminator(LiteGANConfig(resolution=32, d_channels=4))
>>> x = G(torch.randn(2, 128)); x.shape, D(x).shape
(torch.Size([2, 3, 32, 32]), torch.Size([2]))
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .layers import (
    GLU,
    DownBlock,
    GLUUpBlock,
    MinibatchStd,
    SkipExcitation,
    channels_at,
    check_gan_config,
    init_dcgan_,
    levels,
    sn,
)


SLE_MIN_RES = 32          # levels r >= this get an SLE gate from level r // SLE_SPAN
SLE_SPAN = 8
DOUBLE_CONV_MAX_RES = 16  # levels r <= this get a second conv3x3 (cheap there, adds depth)


@dataclass
class LiteGANConfig:
    """Sizes of the lite GAN. Channels at resolution r are ``min(max_channels, width * 256 // r)``
    (at least 8), with width = g_channels for G and d_channels for D: i.e. the width is the channel
    count at 256 px, doubling each time the resolution halves.
    """

    resolution: int = 64     # px, a power of two in 16..1024
    z_dim: int = 128
    g_channels: int = 16
    d_channels: int = 16
    max_channels: int = 256

    def __post_init__(self) -> None:
        widths = {"g_channels": self.g_channels, "d_channels": self.d_channels, "max_channels": self.max_channels}
        check_gan_config("lite", self.resolution, self.z_dim, widths)

    def g_ch(self, r: int) -> int:
        return channels_at(r, self.g_channels, self.max_channels)

    def d_ch(self, r: int) -> int:
        return channels_at(r, self.d_channels, self.max_channels)


# ---------------------------------------------------------------------------------------- generator


class LiteGenerator(nn.Module):
    """z (B, z_dim) ~ N(0, I) -> image (B, 3, R, R) in [-1, 1]."""

    def __init__(self, config: LiteGANConfig):
        super().__init__()
        self.config = config
        c = config
        res = levels(c.resolution)  # [4, 8, ..., R]
        self.seed = nn.Sequential(
            nn.ConvTranspose2d(c.z_dim, 2 * c.g_ch(4), 4, bias=False),  # (B, 2*C4, 4, 4)
            nn.BatchNorm2d(2 * c.g_ch(4)),
            GLU(),                                                       # (B, C4, 4, 4)
        )
        self.ups = nn.ModuleDict(
            {
                str(r): GLUUpBlock(c.g_ch(r // 2), c.g_ch(r), n_convs=2 if r <= DOUBLE_CONV_MAX_RES else 1)
                for r in res[1:]
            }
        )
        self.sle = nn.ModuleDict(
            {str(r): SkipExcitation(c.g_ch(r // SLE_SPAN), c.g_ch(r)) for r in res if r >= SLE_MIN_RES}
        )
        self.to_rgb = nn.Conv2d(c.g_ch(c.resolution), 3, 3, padding=1)
        init_dcgan_(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # z is used as drawn (no normalisation), so that truncation (z * psi) moves toward the mean image.
        x = self.seed(z[:, :, None, None])                   # (B, C4, 4, 4)
        feats = {4: x}
        for key, up in self.ups.items():
            r = int(key)
            x = up(x)                                        # (B, C_r, r, r)
            if key in self.sle:
                x = self.sle[key](feats[r // SLE_SPAN], x)
            feats[r] = x
        return torch.tanh(self.to_rgb(x))                    # (B, 3, R, R)


# ------------------------------------------------------------------------------------ discriminator


class LiteDiscriminator(nn.Module):
    """image (B, 3, R, R) -> real/fake logit (B,)."""

    def __init__(self, config: LiteGANConfig):
        super().__init__()
        self.config = config
        c = config
        res = levels(c.resolution)[::-1]  # [R, R/2, ..., 4]
        self.from_rgb = nn.Sequential(
            sn(nn.Conv2d(3, c.d_ch(res[1]), 4, stride=2, padding=1)),  # (B, C_{R/2}, R/2, R/2)
            nn.LeakyReLU(0.2),
        )
        self.downs = nn.Sequential(*[DownBlock(c.d_ch(r), c.d_ch(r // 2)) for r in res[1:-1]])  # -> (B, C4, 4, 4)
        c4 = c.d_ch(4)
        self.epilogue = nn.Sequential(
            MinibatchStd(group_size=4),                      # (B, C4 + 1, 4, 4)
            sn(nn.Conv2d(c4 + 1, c4, 3, padding=1)),
            nn.LeakyReLU(0.2),
            nn.Flatten(),                                    # (B, C4 * 16)
            sn(nn.Linear(c4 * 16, c4)),
            nn.LeakyReLU(0.2),
            sn(nn.Linear(c4, 1)),                            # (B, 1)
        )
        init_dcgan_(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.from_rgb(x)                                 # (B, C_{R/2}, R/2, R/2)
        x = self.downs(x)                                    # (B, C4, 4, 4)
        return self.epilogue(x).squeeze(1)                   # (B,)
