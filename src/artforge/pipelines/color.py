"""Colour handling for style transfer: YCbCr, luminance-only transfer, colour-statistics matching.

Gatys, Bethge, Hertzmann & Shechtman 2016, "Preserving Color in Neural Artistic Style Transfer", give two
ways to keep the content's colours: transfer in luminance only and put the content's chroma back, or
recolour the style image so that its colour mean and covariance match the content's before transfer.

All functions take and return (B, 3, H, W) float RGB in [0, 1] (unclamped where noted).

>>> x = torch.rand(1, 3, 4, 4)
>>> torch.allclose(ycbcr_to_rgb(rgb_to_ycbcr(x)), x, atol=1e-6)
True
"""

from __future__ import annotations

import torch

from ..ops.stats import grid_subsample

# ITU-R BT.601 full range (what JPEG and Pillow's "YCbCr" use), with Cb, Cr centred on 0.5
_RGB_TO_YCBCR = torch.tensor([[0.299, 0.587, 0.114],
                              [-0.168736, -0.331264, 0.5],
                              [0.5, -0.418688, -0.081312]], dtype=torch.float64)
_YCBCR_TO_RGB = torch.linalg.inv(_RGB_TO_YCBCR)
_OFFSET = torch.tensor([0.0, 0.5, 0.5], dtype=torch.float64)


def rgb_to_ycbcr(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB -> (B, 3, H, W) Y, Cb, Cr (each in [0, 1] for RGB in [0, 1])."""
    m = _RGB_TO_YCBCR.to(x.device, x.dtype)
    return torch.einsum("ij,bjhw->bihw", m, x) + _OFFSET.to(x.device, x.dtype)[:, None, None]


def ycbcr_to_rgb(y: torch.Tensor) -> torch.Tensor:
    """The exact inverse of `rgb_to_ycbcr` (not clamped: out-of-gamut colours stay out of [0, 1])."""
    m = _YCBCR_TO_RGB.to(y.device, y.dtype)
    return torch.einsum("ij,bjhw->bihw", m, y - _OFFSET.to(y.device, y.dtype)[:, None, None])


def luminance(x: torch.Tensor) -> torch.Tensor:
    """Y repeated on three channels: a grey RGB image the feature network can take."""
    return rgb_to_ycbcr(x)[:, :1].expand(-1, 3, -1, -1).contiguous()


def match_luminance(style_y: torch.Tensor, content_y: torch.Tensor) -> torch.Tensor:
    """Shift and scale the style's luminance to the content's mean and standard deviation
    (Gatys et al. 2016, section 2.2), so the transfer keeps the content's overall brightness."""
    mu_s, sd_s = style_y.mean(), style_y.std().clamp_min(1e-6)
    return ((style_y - mu_s) * (content_y.std() / sd_s) + content_y.mean()).clamp(0, 1)


def with_chroma(y_source: torch.Tensor, chroma_source: torch.Tensor) -> torch.Tensor:
    """RGB with the luminance of `y_source` and the Cb, Cr of `chroma_source` (same size)."""
    y = rgb_to_ycbcr(y_source)[:, :1]
    cbcr = rgb_to_ycbcr(chroma_source)[:, 1:]
    return ycbcr_to_rgb(torch.cat([y, cbcr], dim=1))


SAMPLE_PIXELS = 2**16


def color_stats(x: torch.Tensor, eps: float = 1e-6) -> tuple[torch.Tensor, torch.Tensor]:
    """RGB mean (3, 1) and covariance (3, 3) of a (1, 3, H, W) picture, in float64. Above SAMPLE_PIXELS
    they come from a regular grid of about that many pixels (every k-th row and column): a colour
    distribution is known to far better than a level of 255 from 65,536 pixels, and a 2048 px picture
    would otherwise be copied to float64 whole."""
    p = grid_subsample(x, SAMPLE_PIXELS).double().flatten(2)[0]          # (3, N)
    mu = p.mean(1, keepdim=True)
    d = p - mu
    return mu, d @ d.T / p.shape[1] + eps * torch.eye(3, dtype=torch.float64)


def mix_color_stats(stats: list[tuple[torch.Tensor, torch.Tensor]], weights: list[float]):
    """Mean and covariance of the mixture of several pictures' colours, picture i drawn with weight w_i:
    μ = Σ w_i μ_i, Σ = Σ w_i (Σ_i + μ_i μ_iᵀ) - μ μᵀ.

    >>> a, b = (torch.zeros(3, 1), torch.eye(3)), (torch.full((3, 1), 2.0), torch.eye(3))
    >>> mu, cov = mix_color_stats([a, b], [0.5, 0.5])
    >>> mu.flatten().tolist(), cov[0].tolist()
    ([1.0, 1.0, 1.0], [2.0, 1.0, 1.0])
    """
    mu = sum(w * m for (m, _), w in zip(stats, weights))
    second = sum(w * (c + m @ m.T) for (m, c), w in zip(stats, weights))
    return mu, second - mu @ mu.T


def recolor(x: torch.Tensor, mu_t: torch.Tensor, cov_t: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """`x` recoloured so that its RGB mean and covariance are mu_t, cov_t: x' = A (x - μ_x) + μ_t with
    A = Σ_t^½ Σ_x^-½ (symmetric square roots; Gatys et al. 2016's "Image Analogies" variant); clamped."""
    def sqrtm(m: torch.Tensor, power: float) -> torch.Tensor:
        w, v = torch.linalg.eigh(m)
        return v @ torch.diag(w.clamp_min(eps) ** power) @ v.T

    mu_x, cov_x = color_stats(x, eps)
    a = sqrtm(cov_t, 0.5) @ sqrtm(cov_x, -0.5)                   # (3, 3) float64; the pixels in x's dtype
    p = x.flatten(2)[0]
    out = torch.addmm((mu_t - a @ mu_x).to(p.dtype), a.to(p.dtype), p)
    return out.reshape(x.shape).clamp(0, 1)


def match_color(style: torch.Tensor, content: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Recolour `style` so its RGB mean and covariance equal the content's (sizes may differ; the
    result has the style's size, clamped to [0, 1])."""
    return recolor(style, *color_stats(content, eps), eps)
