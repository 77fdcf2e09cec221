"""Blocks shared by the GAN networks: channel schedule, init, GLU up-block, skip-layer excitation,
spectrally-normalised down-block and the minibatch standard-deviation layer.

Everything here is plain PyTorch (no custom ops), so it runs under ``torch.autocast`` and with
``channels_last`` tensors on CPU and GPU.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ..errors import ConfigError

MIN_RESOLUTION = 16
MAX_RESOLUTION = 1024
MIN_CHANNELS = 8  # floor of the channel schedule, so high resolutions never get starved to 1-2 channels


def check_gan_config(arch: str, resolution: int, z_dim: int, widths: dict[str, int]) -> None:
    """Raise ConfigError unless `resolution` is a power of two in 16..1024 and every width is >= 1."""
    ok = isinstance(resolution, int) and MIN_RESOLUTION <= resolution <= MAX_RESOLUTION
    if not ok or resolution & (resolution - 1):
        valid = ", ".join(str(2**k) for k in range(4, 11))
        raise ConfigError(f"{arch}: resolution {resolution!r} is not supported; use one of {valid} (px)")
    for name, value in {"z_dim": z_dim, **widths}.items():
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"{arch}: {name} must be a positive integer, got {value!r}")


def channels_at(r: int, width: int, max_channels: int) -> int:
    """Feature channels at resolution r: ``min(max_channels, width * 256 // r)``, at least 8.

    So `width` is the channel count at 256 px and channels double each time the resolution halves,
    which spends about the same compute on every level, until `max_channels` caps the low levels.

    >>> [channels_at(r, 16, 256) for r in (4, 8, 16, 32, 64, 128)]
    [256, 256, 256, 128, 64, 32]
    """
    return max(min(max_channels, MIN_CHANNELS), min(max_channels, width * 256 // r))


def levels(resolution: int, start: int = 4) -> list[int]:
    """Resolutions from `start` up to `resolution` inclusive: levels(32) -> [4, 8, 16, 32]."""
    return [2**k for k in range(int(math.log2(start)), int(math.log2(resolution)) + 1)]


def init_dcgan_(module: nn.Module) -> None:
    """Radford et al.'s initialisation: conv/linear weights N(0, 0.02), norm scales N(1, 0.02), biases 0.

    Works through spectral-norm parametrisations (it initialises the original weight).
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            weight = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            nn.init.normal_(weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def sn(module: nn.Module) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018): divide the weight by its largest singular value."""
    return spectral_norm(module)


# ----------------------------------------------------------------------------------------- generator


class NearestUpConv2d(nn.Conv2d):
    """Nearest-neighbour x2 upsample followed by this 3x3 conv (padding 1), computed in one go.

    The two are exactly a stride-2 transposed conv whose 4x4 kernel sums neighbouring taps of the 3x3
    one, so it runs at the low resolution: 16 instead of 4 * 9 = 36 multiply-adds per input pixel, and
    no upsampled copy, so on CPU it beats interpolate + conv2d, forward and backward (docs/benchmarks.md).
    The parameters (and state_dict keys) are those of the 3x3 nn.Conv2d it replaces.
    """

    def __init__(self, c_in: int, c_out: int, bias: bool = True):
        super().__init__(c_in, c_out, 3, padding=1, bias=bias)

    @staticmethod
    def _taps(w: torch.Tensor, dim: int) -> torch.Tensor:
        # output phase 0 reads rows (i-1, i) with taps (w0, w1 + w2); phase 1 reads (i, i+1) with (w0 + w1, w2);
        # a transposed conv (pad 1) indexes those as kernel rows 3, 1 and 2, 0
        w0, w1, w2 = w.unbind(dim)
        return torch.stack([w2, w1 + w2, w0 + w1, w0], dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C_in, H, W) -> (B, C_out, 2H, 2W)
        w4 = self._taps(self._taps(self.weight, 2), 3).transpose(0, 1)  # (C_in, C_out, 4, 4)
        return F.conv_transpose2d(x, w4, self.bias, stride=2, padding=1)


class GLU(nn.Module):
    """Gated linear unit over channels: first half * sigmoid(second half) (Dauphin et al. 2017).

    Written out rather than nn.GLU: on CPU with channels_last, F.glu's backward is slower (docs/benchmarks.md).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 2C, H, W) -> (B, C, H, W)
        value, gate = x.chunk(2, dim=1)
        return value * torch.sigmoid(gate)


class GLUUpBlock(nn.Module):
    """Nearest-neighbour x2, then `n_convs` x (conv3x3 to 2*C_out, BatchNorm, GLU) (Liu et al. 2021).

    GLU halves the channels again: a learned sigmoid gate, cheaper and steadier than ReLU in small G's.
    The upsample and the first conv are fused (NearestUpConv2d).
    """

    def __init__(self, c_in: int, c_out: int, n_convs: int = 1):
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(n_convs):
            if i == 0:
                conv: nn.Conv2d = NearestUpConv2d(c_in, 2 * c_out, bias=False)
            else:
                conv = nn.Conv2d(c_out, 2 * c_out, 3, padding=1, bias=False)
            layers += [conv, nn.BatchNorm2d(2 * c_out), GLU()]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C_in, H, W) -> (B, C_out, 2H, 2W)
        return self.body(x)


class SkipExcitation(nn.Module):
    """Skip-layer excitation (SLE, Liu et al. 2021): a low-res feature map gates the channels of a
    high-res one, a cheap long skip connection that also helps disentangle content from style.
    """

    def __init__(self, c_low: int, c_high: int):
        super().__init__()
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(4),                     # (B, C_low, 4, 4)
            nn.Conv2d(c_low, c_high, 4, bias=False),     # (B, C_high, 1, 1)
            nn.SiLU(),
            nn.Conv2d(c_high, c_high, 1, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        return high * self.gate(low)  # (B, C_high, H, W) * (B, C_high, 1, 1)


# ------------------------------------------------------------------------------------- discriminator


class DownBlock(nn.Module):
    """Spectrally-normalised conv4x4 stride 2 + LeakyReLU(0.2), averaged with an avg-pool + conv1x1
    shortcut (the residual down-block of FastGAN, without its BatchNorm: batch statistics in D would
    let real and fake batches leak into each other).
    """

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.main = nn.Sequential(sn(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1)), nn.LeakyReLU(0.2))
        self.skip = nn.Sequential(nn.AvgPool2d(2), sn(nn.Conv2d(c_in, c_out, 1, bias=False)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C_in, H, W) -> (B, C_out, H/2, W/2)
        return (self.main(x) + self.skip(x)) * (0.5**0.5)


class MinibatchStd(nn.Module):
    """Append one channel holding the average std-dev of features across a group of samples
    (Karras et al. 2018): D can then see a collapsed, too-uniform batch, which pushes G to diversity.
    """

    def __init__(self, group_size: int = 4):
        super().__init__()
        self.group_size = group_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, C + 1, H, W)
        b, c, h, w = x.shape
        g = max(d for d in range(1, min(self.group_size, b) + 1) if b % d == 0)  # a group size dividing B
        y = x.float().reshape(g, b // g, c, h, w)                 # (G, B/G, C, H, W)
        y = (y - y.mean(dim=0)).square().mean(dim=0)               # (B/G, C, H, W) variance over the group
        y = (y + 1e-8).sqrt().mean(dim=(1, 2, 3))                 # (B/G,)
        y = y.reshape(-1, 1, 1, 1).repeat(g, 1, h, w).to(x.dtype)  # (B, 1, H, W)
        return torch.cat([x, y], dim=1)
