"""Losses: adversarial (GAN) losses and penalties, as plain functions of tensors."""

from .adversarial import (
    D_LOSSES,
    G_LOSSES,
    d_hinge,
    d_nonsaturating,
    g_hinge,
    g_nonsaturating,
    r1_penalty,
)

__all__ = ["D_LOSSES", "G_LOSSES", "d_hinge", "d_nonsaturating", "g_hinge", "g_nonsaturating", "r1_penalty"]
