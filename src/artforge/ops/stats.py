"""Statistics of feature maps that models, losses and pipelines share.

Features are (B, C, H, W) activations of one layer; N = H·W is the number of positions.

>>> mu, sigma = mean_std(torch.ones(1, 2, 3, 3), eps=0.0)
>>> mu.tolist(), sigma.tolist()
([[1.0, 1.0]], [[0.0, 0.0]])
"""

from __future__ import annotations

import torch


def grid_subsample(x: torch.Tensor, at_most: int) -> torch.Tensor:
    """x (..., H, W) at every k-th row and column, k = floor(sqrt(H·W / at_most)): about `at_most`
    positions, never fewer, and fewer than 4x as many (x itself below 4x). For statistics of big maps.

    >>> grid_subsample(torch.zeros(1, 3, 100, 100), 2500).shape[-2:]
    torch.Size([50, 50])
    """
    k = max(1, int((x.shape[-2] * x.shape[-1] / at_most) ** 0.5))
    return x[..., ::k, ::k]


def mean_std(f: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """μ_i = (1/N) Σ_k F_ik and σ_i = sqrt((1/N) Σ_k (F_ik - μ_i)² + eps): two (B, C) tensors.

    >>> [t.tolist() for t in mean_std(torch.tensor([[[[1.0, 3.0]]]]), eps=0.0)]
    [[[2.0]], [[1.0]]]
    """
    f = f.float()
    if f.is_contiguous(memory_format=torch.channels_last) and not f.is_contiguous():
        x, dim = f.permute(0, 2, 3, 1).flatten(1, 2), 1        # (B, N, C), a view: no strided reduction
    else:
        x, dim = f.flatten(2), 2                                # (B, C, N)
    # E[x²] - E[x]² rather than torch.var_mean: the same to float rounding for activations of this size,
    # and much faster on a CPU (var_mean's one-pass algorithm does not vectorise over this layout;
    # docs/benchmarks.md)
    mu = x.mean(dim)
    var = (x * x).mean(dim) - mu * mu
    return mu, (var.clamp_min(0) + eps).sqrt()
