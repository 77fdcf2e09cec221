"""Content, style and smoothness losses for style transfer, as plain functions of feature maps.

Features are (B, C, H, W) activations of one layer; N = H·W is the number of positions.

- Content (Gatys et al. 2016, "Image Style Transfer Using Convolutional Neural Networks"): the mean
  squared difference of the activations.
- Style as Gram matrices (Gatys et al.): channel co-activations averaged over positions.
- Style as per-channel mean and standard deviation (Li et al. 2017, "Demystifying Neural Style
  Transfer"; the statistics AdaIN aligns, Huang & Belongie 2017).
- The softmax transformation (Wang, Li & Vasconcelos, CVPR 2021, "Rethinking and Improving the
  Robustness of Image Style Transfer"): residual networks give peaky, low-entropy activations, and a
  Gram matrix of them is dominated by a few positions; a softmax over positions (per channel, with a
  temperature) spreads them out before the statistics are taken.
- Total variation: squared differences of neighbouring pixels (Mahendran & Vedaldi 2015).

Statistics are tuples of tensors so that Gram (one tensor) and mean/std (two) share one code path, and
several styles blend by averaging their statistics (see `blend_statistics`).

>>> f = torch.ones(1, 2, 3, 3)
>>> gram(f)
tensor([[[1., 1.],
         [1., 1.]]])
"""

from __future__ import annotations

from typing import Sequence

import torch

from ..ops.stats import mean_std

STYLE_LOSSES = ("gram", "softmax-gram", "mean-std")
Statistics = tuple[torch.Tensor, ...]


def gram(f: torch.Tensor) -> torch.Tensor:
    """G_ij = (1/N) Σ_k F_ik F_jk for F = f flattened to (B, C, N): (B, C, C), independent of image size.

    >>> gram(torch.tensor([[[[1.0, 3.0]], [[2.0, 0.0]]]])).tolist()
    [[[5.0, 1.0], [1.0, 2.0]]]
    """
    b, c, h, w = f.shape
    x = f.float().reshape(b, c, h * w)
    return x @ x.transpose(1, 2) / (h * w)


def softmax_transform(f: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """S_ik = N · exp(F_ik / T) / Σ_m exp(F_im / T): a softmax over the N positions of each channel.

    Wang et al. define σ(F) without the factor N; multiplying by N makes a flat channel map to 1
    everywhere whatever the image size, so statistics of the style image and of the (differently sized)
    image being optimized stay comparable. A large T flattens more; a small T keeps only the peak.

    >>> softmax_transform(torch.zeros(1, 1, 2, 2)).tolist()
    [[[[1.0, 1.0], [1.0, 1.0]]]]
    """
    b, c, h, w = f.shape
    x = (f.float() / temperature).reshape(b, c, h * w)
    return (torch.softmax(x, dim=2) * (h * w)).reshape(b, c, h, w)


def content_loss(f: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(1 / (B C N)) Σ (F - P)²: the mean squared difference of the activations."""
    return (f.float() - target.float()).pow(2).mean()


def style_statistics(f: torch.Tensor, kind: str, temperature: float = 1.0) -> Statistics:
    """What a style loss compares: `gram` -> (G(F),), `softmax-gram` -> (G(S(F)),), `mean-std` -> (μ, σ)."""
    if kind == "gram":
        return (gram(f),)
    if kind == "softmax-gram":
        return (gram(softmax_transform(f, temperature)),)
    if kind == "mean-std":
        return mean_std(f)
    raise ValueError(f"unknown style loss {kind!r}; known: {', '.join(STYLE_LOSSES)}")


def statistics_loss(stats: Statistics, target: Statistics) -> torch.Tensor:
    """Σ_t mean((s_t - target_t)²) over the tensors of the statistics (one for Gram, two for mean/std).

    For Gram this is Gatys et al.'s E_l up to a constant; for (μ, σ) it is Li et al.'s BN-statistics loss.
    """
    return sum((s - t).pow(2).mean() for s, t in zip(stats, target, strict=True))


def statistics_scale(target: Statistics, flat: Statistics | None = None, eps: float = 1e-8) -> float:
    """Σ_t mean((target_t - flat_t)²), where `flat` are the statistics of a featureless map (zeros by default).

    Dividing a layer's `statistics_loss` by it makes layers of very different magnitudes count alike: a loss
    of 1 means "as far from the style as a featureless image". For softmax-Gram the flat statistics are
    all ones (a flat channel maps to 1), so this measures the part of the Gram matrix that carries style.
    """
    flat = flat if flat is not None else tuple(torch.zeros_like(t) for t in target)
    return float(sum((t - f).pow(2).mean() for t, f in zip(target, flat, strict=True))) + eps


def blend_statistics(stats: Sequence[Statistics], weights: Sequence[float]) -> Statistics:
    """Σ_s w_s · stats_s with the weights normalised to sum to 1.

    Σ_s w_s ||x - t_s||² = ||x - Σ_s w_s t_s||² + const, so matching the blend is the same optimization
    as the weighted sum of one loss per style, at the cost of one.

    >>> blend_statistics([(torch.tensor(0.0),), (torch.tensor(4.0),)], [3, 1])
    (tensor(1.),)
    """
    if len(stats) != len(weights) or not stats:
        raise ValueError(f"{len(stats)} styles but {len(weights)} weights")
    total = float(sum(weights))
    if total <= 0 or any(w < 0 for w in weights):
        raise ValueError(f"style weights must be >= 0 with a positive sum, got {list(weights)}")
    return tuple(sum(s[t] * (w / total) for s, w in zip(stats, weights)) for t in range(len(stats[0])))


def tv_loss(x: torch.Tensor) -> torch.Tensor:
    """mean((x[i+1, j] - x[i, j])²) + mean((x[i, j+1] - x[i, j])²) over an image batch (B, C, H, W)."""
    x = x.float()
    return (x[..., 1:, :] - x[..., :-1, :]).pow(2).mean() + (x[..., :, 1:] - x[..., :, :-1]).pow(2).mean()
