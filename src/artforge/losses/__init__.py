"""Losses as plain functions of tensors: adversarial (GAN) losses and penalties; style transfer (style.py)."""

from .adversarial import (
    D_LOSSES,
    G_LOSSES,
    d_hinge,
    d_nonsaturating,
    g_hinge,
    g_nonsaturating,
    r1_penalty,
)
from .style import (STYLE_LOSSES, blend_statistics, content_loss, gram, mean_std, softmax_transform, style_statistics,
                    tv_loss)

__all__ = ["D_LOSSES", "G_LOSSES", "STYLE_LOSSES", "blend_statistics", "content_loss", "d_hinge", "d_nonsaturating",
           "g_hinge", "g_nonsaturating", "gram", "mean_std", "r1_penalty", "softmax_transform", "style_statistics",
           "tv_loss"]
