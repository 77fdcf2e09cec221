"""Structural similarity per image (SSIM), with a Gaussian window, on RGB or on BT.601 luma.

Wang et al. 2004, "Image Quality Assessment: From Error Visibility to Structural Similarity":
SSIM = (2 mu_a mu_b + C1)(2 s_ab + C2) / ((mu_a^2 + mu_b^2 + C1)(s_a^2 + s_b^2 + C2)),
local statistics under an 11x11 Gaussian window (sigma 1.5), C1 = (0.01 R)^2, C2 = (0.03 R)^2,
averaged over the map, then over channels.

Borders: the window is applied as a 'valid' convolution, so the map covers only positions whose
window lies inside the image ((H - 10) x (W - 10)). This equals skimage's
`structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
data_range=R, channel_axis=...)`, which filters with reflect padding but then crops 5 px from each
side before averaging: the cropped positions are exactly the valid ones. Images must be >= 11 px.

>>> import torch
>>> a = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
>>> ssim(a, a).tolist(), bool((ssim(a, 1 - a) < 0).all())  # an inverted image anti-correlates
([1.0, 1.0], True)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .psnr import as_image_batch, rgb_to_y

WINDOW_PX = 11
SIGMA_PX = 1.5
K1, K2 = 0.01, 0.03


def gaussian_window_1d(
    size: int = WINDOW_PX, sigma: float = SIGMA_PX, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """Normalised 1-D Gaussian taps (size,); the 2-D window is their outer product."""
    x = torch.arange(size, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def ssim(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0, luminance: bool = False) -> torch.Tensor:
    """Per-image SSIM, (B,), of (B, C, H, W) or (C, H, W) images in [0, data_range].

    Computed in float32 at least (float64 inputs stay float64). With luminance=True, on `rgb_to_y`.
    """
    a, b = as_image_batch(a, b, need_rgb=luminance)
    if luminance:
        a, b = rgb_to_y(a, data_range), rgb_to_y(b, data_range)
    n, c, h, w = a.shape
    if h < WINDOW_PX or w < WINDOW_PX:
        raise ValueError(f"SSIM needs images of at least {WINDOW_PX}x{WINDOW_PX} px, got {h}x{w}")

    # One grouped, separable pass filters all five moment maps of all channels: (B, 5C, H', W').
    g = gaussian_window_1d(dtype=a.dtype).to(a.device)
    moments = torch.cat([a, b, a * a, b * b, a * b], dim=1)
    groups = moments.shape[1]
    moments = F.conv2d(moments, g.view(1, 1, -1, 1).expand(groups, 1, -1, 1), groups=groups)
    moments = F.conv2d(moments, g.view(1, 1, 1, -1).expand(groups, 1, 1, -1), groups=groups)
    mu_a, mu_b, e_aa, e_bb, e_ab = moments.split(c, dim=1)

    # Population (not sample) variances, as in Wang et al.'s code: use_sample_covariance=False.
    var_a, var_b, cov_ab = e_aa - mu_a**2, e_bb - mu_b**2, e_ab - mu_a * mu_b
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    l = (2 * mu_a * mu_b + c1) / (mu_a**2 + mu_b**2 + c1)  # luminance term
    cs = (2 * cov_ab + c2) / (var_a + var_b + c2)  # contrast-structure term
    ssim_map = l * cs
    return ssim_map.mean(dim=(1, 2, 3))  # equal-sized channel maps: the mean of the per-channel means
