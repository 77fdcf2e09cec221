"""Feed-forward style networks: an arbitrary-style AdaIN network and per-style transform networks.

- `StyleDecoder` with `adain` (Huang & Belongie 2017, "Arbitrary Style Transfer in Real-time with
  Adaptive Instance Normalization"): the content image is encoded by the frozen feature network
  (EfficientNet-Lite0, BatchNorm folded), each of its features is re-normalised to the style image's
  per-channel mean and standard deviation, and a trained decoder turns the result back into a picture.
  Unlike the original (one AdaIN at VGG's relu4_1, a nine-layer decoder), AdaIN is applied at three
  scales (strides 2, 4 and 8) and the decoder adds each one in on its way up, U-Net fashion: the shallow
  levels carry the photograph's edges and the style's fine texture, the deep one its composition; the
  decoder is small enough for a 512 px picture in a fraction of a second on a laptop CPU.
- `TransformNet` (Johnson, Alahi & Fei-Fei 2016, "Perceptual Losses for Real-Time Style Transfer", with
  upsample-then-convolve against checkerboards, Odena et al. 2016): one network per style, trained
  once, applied to pictures of any size.

    >>> net = TransformNet(TransformConfig(widths=(4, 8, 8), res_blocks=1))
    >>> tuple(net(torch.rand(1, 3, 20, 28)).shape)
    (1, 3, 20, 28)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..ops.fused import conv_act
from ..ops.stats import grid_subsample, mean_std


@dataclass
class AdaINConfig:
    taps: tuple = ("blocks.1.expand", "blocks.3.expand", "blocks.5.expand")   # AdaIN levels, shallow to deep
    channels: tuple = (96, 144, 240)          # the feature network's channels at those taps
    widths: tuple = (32, 64, 128)             # decoder widths at strides 2, 4, 8
    deep_convs: int = 2                       # 3x3 convolutions at the deepest level
    style_px: int = 256                       # long side the style image is encoded at for its statistics


def adain(f: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor, alpha: float = 1.0,
          eps: float = 1e-5) -> torch.Tensor:
    """Features f (B, C, H, W) with each channel's mean and std replaced by mu, sigma (B, C); with
    alpha < 1, that mixed with f itself: alpha · AdaIN(f) + (1 - alpha) · f.

    Computed as one per-channel affine map f · a + b (a single pass over the features, which matters
    at stride 2 of a big picture): a = alpha · sigma / std(f) + 1 - alpha, b = alpha · (mu - mean(f) · sigma / std(f)).

    >>> y = adain(torch.randn(1, 2, 8, 8), torch.tensor([[1.0, -2.0]]), torch.tensor([[3.0, 0.5]]))
    >>> [round(v, 3) for v in y.mean((2, 3))[0].tolist()], [round(v, 2) for v in y.std((2, 3), correction=0)[0].tolist()]
    ([1.0, -2.0], [3.0, 0.5])
    """
    a, b = adain_affine(f, mu, sigma, alpha, eps)
    return torch.addcmul(b[..., None, None].to(f.dtype), f, a[..., None, None].to(f.dtype))


def adain_affine(f: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor, alpha: float = 1.0,
                 eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """(a, b), each (B, C): `adain(f, ...)` is f · a + b per channel."""
    m, s = mean_std(f, eps)
    k = sigma.to(m.dtype) / s                                            # (B, C)
    return alpha * k + (1 - alpha), alpha * (mu.to(m.dtype) - m * k)


STATS_POSITIONS = 2**14       # StyleDecoder.stylize: feature positions sampled for the content's statistics


def conv(cin: int, cout: int, k: int = 3) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, padding=k // 2)         # zero padding: the convolution pads, no copy


class StyleDecoder(nn.Module):
    """AdaIN'd features at strides 2, 4, 8 -> a picture (B, 3, H, W) in [0, 1]."""

    def __init__(self, config: AdaINConfig = AdaINConfig()):
        super().__init__()
        self.config = c = config
        w2, w4, w8 = c.widths
        c2, c4, c8 = c.channels
        self.inp8, self.inp4, self.inp2 = conv(c8, w8, 1), conv(c4, w4, 1), conv(c2, w2, 1)
        self.body8 = nn.ModuleList([conv(w8, w8) for _ in range(c.deep_convs)])
        self.to4, self.body4 = conv(w8, w4, 1), conv(w4, w4)
        self.to2, self.body2 = conv(w4, w2, 1), conv(w2, w2)
        self.out = conv(w2, 3 * 4)            # 12 channels at stride 2 -> pixel shuffle -> 3 at full size

    def forward(self, f2: torch.Tensor, f4: torch.Tensor, f8: torch.Tensor) -> torch.Tensor:
        return self._decode(f2, f4, f8, self.inp2, self.inp4, self.inp8)

    def stylize(self, feats: list[torch.Tensor], code, alpha: float = 1.0) -> torch.Tensor:
        """`self(*stylize_features(...))` for one picture, in less time: AdaIN is a per-channel affine map
        f·a + b and each level enters through a 1x1 convolution W, so W(f·a + b) + c = (W·diag(a)) f + (W b + c)
        and the AdaIN'd features (96 channels at stride 2) are never written out. The content's statistics
        come from a grid of about STATS_POSITIONS positions per level (every k-th row and column; one
        512 px picture's stride-2 map has 65,536): on 6 pairs at 512 px that moved the output by 0.08-0.14
        levels of 255 on average, 6 at most. Batches go the plain way."""
        if feats[0].shape[0] != 1:
            return self(*[adain(f, mu, sigma, alpha) for f, (mu, sigma) in zip(feats, code)])
        folded = []
        for f, (mu, sigma), inp in zip(feats, code, (self.inp2, self.inp4, self.inp8)):
            a, b = adain_affine(grid_subsample(f, STATS_POSITIONS), mu, sigma, alpha)   # (1, C) each
            one = nn.Conv2d(inp.in_channels, inp.out_channels, 1).requires_grad_(False)
            one.weight.copy_(inp.weight * a[0].to(inp.weight.dtype)[None, :, None, None])
            one.bias.copy_(inp.bias + inp.weight[:, :, 0, 0] @ b[0].to(inp.weight.dtype))
            folded.append(one.to(inp.weight.device, memory_format=torch.channels_last))
        return self._decode(*feats, *folded)

    def _decode(self, f2, f4, f8, inp2, inp4, inp8) -> torch.Tensor:
        h = conv_act(inp8, f8, "relu")                                     # (B, w8, H/8, W/8)
        for layer in self.body8:
            h = conv_act(layer, h, "relu")
        h = F.interpolate(self.to4(h), size=f4.shape[-2:], mode="nearest")  # (B, w4, H/4, W/4)
        h = conv_act(self.body4, F.relu(h + inp4(f4)), "relu")
        h = F.interpolate(self.to2(h), size=f2.shape[-2:], mode="nearest")  # (B, w2, H/2, W/2)
        h = conv_act(self.body2, F.relu(h + inp2(f2)), "relu")
        # bounded: an unbounded output learns to meet the style statistics with out-of-range checkerboards;
        # the sigmoid is per element, so it goes before the pixel shuffle and into the convolution's pass
        return F.pixel_shuffle(conv_act(self.out, h, "sigmoid"), 2)       # (B, 3, H, W)


def style_code(feats: dict[str, torch.Tensor], taps: tuple) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """[(mu, sigma)] per tap: what a style image contributes, computed once and reusable for many pictures."""
    return [mean_std(feats[t]) for t in taps]


def mix_codes(codes: list[list[tuple[torch.Tensor, torch.Tensor]]], weights: list[float]):
    """Interpolate between styles: the weighted mean of their (mu, sigma) at every level (weights sum to 1)."""
    return [tuple(sum(w * c[level][i] for c, w in zip(codes, weights)) for i in range(2))
            for level in range(len(codes[0]))]


def stylize_features(feats: dict[str, torch.Tensor], code, taps: tuple, alpha: float = 1.0) -> list[torch.Tensor]:
    """AdaIN at each level, then blended with the content's own features: alpha 0 = content, 1 = full style."""
    return [adain(feats[t], mu, sigma, alpha) for t, (mu, sigma) in zip(taps, code)]


# -- per-style transform network ---------------------------------------------------------------------
@dataclass
class TransformConfig:
    widths: tuple = (16, 32, 64)     # at full size, /2, /4 (Johnson et al. use 32, 64, 128)
    res_blocks: int = 5


class Residual(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.a, self.b = conv(ch, ch), conv(ch, ch)
        nn.init.zeros_(self.b.weight)                    # each block starts as the identity
        nn.init.zeros_(self.b.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.b(F.relu(self.a(x)))


class TransformNet(nn.Module):
    """Picture (B, 3, H, W) in [0, 1] -> the same picture in the trained style, same size (any H, W).

    No normalization layers (Johnson et al. use batch norm, later work instance norm): every output pixel
    depends only on the input within RECEPTIVE_PX of it, so a big picture can be cut into overlapping
    tiles and put back together with the same result as one pass (pipelines/style_models.py).
    """

    def __init__(self, config: TransformConfig = TransformConfig()):
        super().__init__()
        self.config = c = config
        w1, w2, w4 = c.widths
        self.down = nn.Sequential(conv(3, w1, 9), nn.ReLU(), nn.Conv2d(w1, w2, 3, 2, 1), nn.ReLU(),
                                  nn.Conv2d(w2, w4, 3, 2, 1), nn.ReLU())
        self.res = nn.Sequential(*[Residual(w4) for _ in range(c.res_blocks)])
        self.up2, self.up1 = conv(w4, w2), conv(w2, w1)
        self.out = conv(w1, 3, 9)

    @property
    def receptive_px(self) -> int:
        """How far (input pixels) an output pixel can see: each layer's kernel radius times its stride so far.

        9x9 (4) + two stride-2 3x3 (1 + 2) + 2 convs per residual block at stride 4 (8 each) + the nearest
        upsamplings (at most one position each: 4 + 2) + 3x3 at stride 2 (2) and 1 (1) + the 9x9 out (4).
        """
        return 4 + 1 + 2 + 8 * self.config.res_blocks + 4 + 2 + 2 + 1 + 4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        y = self.res(self.down(x * 2 - 1))                                     # (B, w4, H/4, W/4)
        y = F.interpolate(y, size=((h + 1) // 2, (w + 1) // 2), mode="nearest")
        y = F.relu(self.up2(y))                                                # (B, w2, H/2, W/2)
        y = F.relu(self.up1(F.interpolate(y, size=(h, w), mode="nearest")))   # (B, w1, H, W)
        return torch.sigmoid(self.out(y))
