"""Peak signal-to-noise ratio per image, on RGB or on the BT.601 luma used by super-resolution papers.

PSNR = 10 log10(R^2 / MSE) dB for data in [0, R]; identical images give +inf.
With luminance=True both images go through `rgb_to_y` first (the "Y channel" PSNR of SRCNN, EDSR,
BasicSR), so results compare with papers that report PSNR-Y. Unlike MATLAB's rgb2ycbcr on uint8
images, Y is not rounded to 8 bits; that rounding moves PSNR-Y by at most a few hundredths of a dB.

>>> import torch
>>> a = torch.full((1, 3, 8, 8), 0.5)
>>> psnr(a, a + 0.1).round(decimals=4).tolist(), psnr(a, a).tolist()
([20.0], [inf])
"""

from __future__ import annotations

import math

import torch

# ITU-R BT.601 "studio swing" luma for RGB in [0, 1]: Y in [16/255, 235/255].
_Y_WEIGHTS = (65.481 / 255.0, 128.553 / 255.0, 24.966 / 255.0)
_Y_OFFSET = 16.0 / 255.0


def rgb_to_y(x: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """BT.601 luma of (B, 3, H, W) RGB in [0, data_range] -> (B, 1, H, W) in the same range units.

    Y = 16/255 + (65.481 R + 128.553 G + 24.966 B) / 255 for data in [0, 1]; other ranges are
    scaled to [0, 1] and back, so Y in [0, 255] data spans [16, 235] as in the papers.

    >>> rgb_to_y(torch.full((1, 3, 1, 1), 255.0), data_range=255.0).round().flatten().tolist()
    [235.0]
    """
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"rgb_to_y needs (B, 3, H, W) RGB images, got shape {tuple(x.shape)}")
    w = torch.tensor(_Y_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True) + _Y_OFFSET * data_range


def psnr(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0, luminance: bool = False) -> torch.Tensor:
    """Per-image PSNR in dB, (B,), of (B, C, H, W) or (C, H, W) images in [0, data_range].

    Computed in float32 at least (float64 inputs stay float64), so half-precision outputs are safe.
    """
    a, b = as_image_batch(a, b, need_rgb=luminance)
    if luminance:
        a, b = rgb_to_y(a, data_range), rgb_to_y(b, data_range)
    mse = (a - b).pow(2).mean(dim=(1, 2, 3))  # (B,)
    # 20 log10(R) - 10 log10(MSE) rather than R^2 / MSE, which can overflow in float32 for R = 65535.
    return 20.0 * math.log10(data_range) - 10.0 * torch.log10(mse)


def as_image_batch(
    a: torch.Tensor, b: torch.Tensor, need_rgb: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Check two images or batches have one shape and return them as (B, C, H, W) float32+ tensors."""
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {tuple(a.shape)} and {tuple(b.shape)}")
    if a.ndim == 3:  # one (C, H, W) image is a batch of one
        a, b = a.unsqueeze(0), b.unsqueeze(0)
    if a.ndim != 4:
        raise ValueError(f"images must be (B, C, H, W) or (C, H, W), got shape {tuple(a.shape)}")
    if need_rgb and a.shape[1] != 3:
        raise ValueError(f"luminance=True needs 3-channel RGB images, got {a.shape[1]} channels")
    dtype = torch.promote_types(torch.promote_types(a.dtype, b.dtype), torch.float32)
    return a.to(dtype), b.to(dtype)
