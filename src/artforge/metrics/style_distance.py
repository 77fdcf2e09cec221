"""How close a stylized picture is to its style, and how much of its content it keeps, measured without
any neural network (so a method cannot score well by matching the very network it was trained with).

- `patch_swd`: the multi-scale sliced Wasserstein distance between 7x7 patches of a Laplacian pyramid
  (Karras et al. 2018, "Progressive Growing of GANs", section 5: MS-SWD). Each level holds the detail at
  one scale (brush marks, their grouping, larger shapes); the distance compares the distributions of
  local patches of colour and texture, whatever their positions. Lower = closer to the style.
- `color_swd`: the same distance between the RGB values of all pixels: the palette alone.
- `edge_ssim`: SSIM between the luminance gradient magnitudes (Sobel) of result and content: whether
  the content's edges and contours are where they were, independent of their new colours. Higher =
  more of the content kept.

Sliced Wasserstein (Rabin et al. 2011): project both point sets on random unit directions and compare
the sorted projections (here, 256 quantiles each); averaged over directions.

    >>> a = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    >>> patch_swd(a, a) == 0.0, color_swd(a, a) == 0.0, round(edge_ssim(a, a), 3)
    (True, True, 1.0)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .psnr import rgb_to_y
from .ssim import ssim

PATCH = 7
LEVELS = 3
SAMPLES = 4096           # patches per level and image
DIRECTIONS = 128
QUANTILES = 256


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, directions: int = DIRECTIONS, seed: int = 0) -> float:
    """Mean over random unit directions of the mean |difference| of the two sets' projection quantiles.

    a: (N, D), b: (M, D). Quantiles make sets of different sizes comparable.
    """
    g = torch.Generator().manual_seed(seed)
    dirs = F.normalize(torch.randn(a.shape[1], directions, generator=g), dim=0)     # (D, K)
    q = torch.linspace(0, 1, QUANTILES)
    pa, pb = torch.quantile(a.float() @ dirs, q, dim=0), torch.quantile(b.float() @ dirs, q, dim=0)
    return float((pa - pb).abs().mean())


def laplacian_pyramid(x: torch.Tensor, levels: int = LEVELS) -> list[torch.Tensor]:
    """[detail at full size, at 1/2, ..., the last level's low-pass] for (1, 3, H, W)."""
    out = []
    for _ in range(levels - 1):
        low = F.avg_pool2d(x, 2, ceil_mode=True)
        out.append(x - F.interpolate(low, size=x.shape[-2:], mode="bilinear", align_corners=False))
        x = low
    return out + [x]


def _patches(level: torch.Tensor, count: int, g: torch.Generator) -> torch.Tensor:
    """(count, 3·7·7) random patches of a (1, 3, H, W) level."""
    h, w = level.shape[-2:]
    ys = torch.randint(0, h - PATCH + 1, (count,), generator=g)
    xs = torch.randint(0, w - PATCH + 1, (count,), generator=g)
    idx = torch.arange(PATCH)
    rows = (ys[:, None] + idx)[:, :, None].expand(-1, -1, PATCH)                  # (count, 7, 7)
    cols = (xs[:, None] + idx)[:, None, :].expand(-1, PATCH, -1)
    return level[0][:, rows, cols].permute(1, 0, 2, 3).reshape(count, -1)


def patch_swd(x: torch.Tensor, style: torch.Tensor, levels: int = LEVELS, seed: int = 0) -> float:
    """Mean over pyramid levels of the SWD between 7x7 patches of x and of style (both (1, 3, H, W) in
    [0, 1]; sizes may differ). Descriptors are normalised per level by the style's per-channel mean and
    std, as Karras et al. do, so that every level counts alike."""
    gx, gs = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)   # same draws for both
    total = 0.0
    for lx, ls in zip(laplacian_pyramid(x.float(), levels), laplacian_pyramid(style.float(), levels)):
        if min(lx.shape[-2:] + ls.shape[-2:]) < PATCH:
            raise ValueError(f"pictures too small for {levels} pyramid levels of {PATCH}x{PATCH} patches")
        px, ps = _patches(lx, SAMPLES, gx), _patches(ls, SAMPLES, gs)
        mu, sd = ps.mean(0), ps.std(0) + 1e-6
        total += sliced_wasserstein((px - mu) / sd, (ps - mu) / sd, seed=seed)
    return total / levels


def color_swd(x: torch.Tensor, style: torch.Tensor, seed: int = 0) -> float:
    """SWD between the RGB values of all pixels of x and of style (palette distance, [0, 1] units)."""
    return sliced_wasserstein(x[0].flatten(1).T, style[0].flatten(1).T, seed=seed)


def gradient_magnitude(x: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W): Sobel gradient magnitude of BT.601 luma, scaled so a full black-white step is 1."""
    y = rgb_to_y(x.float())
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])[None, None] / 4
    yp = F.pad(y, (1, 1, 1, 1), mode="replicate")
    gx, gy = F.conv2d(yp, kx), F.conv2d(yp, kx.transpose(-1, -2))
    return (gx.pow(2) + gy.pow(2)).sqrt().clamp(0, 1)


def edge_ssim(x: torch.Tensor, content: torch.Tensor) -> float:
    """SSIM of the luminance gradient magnitudes; content is resized to x's size first (bilinear)."""
    if content.shape[-2:] != x.shape[-2:]:
        content = F.interpolate(content.float(), size=x.shape[-2:], mode="bilinear", antialias=True,
                                align_corners=False)
    return float(ssim(gradient_magnitude(x), gradient_magnitude(content)).mean())
