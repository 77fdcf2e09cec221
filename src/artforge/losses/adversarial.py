"""Adversarial losses for GANs, as functions of D's logits, plus the R1 gradient penalty.

Hinge (Lim & Ye 2017; Miyato et al. 2018) and the non-saturating logistic loss (Goodfellow et al.
2014, in its softplus form as in StyleGAN2). R1 (Mescheder et al. 2018, "Which Training Methods for
GANs do actually Converge?") penalises D's gradient on real images; the caller scales it by gamma / 2
and may apply it lazily every k steps. All reductions are done in float32, so the losses are safe to
call on bf16/fp16 logits from an autocast region.

>>> import torch
>>> float(d_hinge(torch.tensor([2.0]), torch.tensor([-2.0]))), float(g_hinge(torch.tensor([0.5])))
(0.0, -0.5)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def d_hinge(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]."""
    return F.relu(1.0 - real_logits.float()).mean() + F.relu(1.0 + fake_logits.float()).mean()


def g_hinge(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[D(G(z))]."""
    return -fake_logits.float().mean()


def d_nonsaturating(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-log sigmoid(D(x)) - log(1 - sigmoid(D(G(z)))) = softplus(-D(x)) + softplus(D(G(z))), averaged."""
    return F.softplus(-real_logits.float()).mean() + F.softplus(fake_logits.float()).mean()


def g_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """-log sigmoid(D(G(z))) = softplus(-D(G(z))), averaged."""
    return F.softplus(-fake_logits.float()).mean()


def r1_penalty(real_logits: torch.Tensor, real_images: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ||grad_x D(x)||^2; `real_images` must require grad and be what D saw.

    The graph is kept (create_graph) so the penalty itself can be backpropagated into D.

    >>> import torch
    >>> x = torch.ones(2, 3, requires_grad=True); w = torch.tensor([1.0, 2.0, 3.0])
    >>> float(r1_penalty((x * w).sum(dim=1), x))
    14.0
    """
    if not real_images.requires_grad:
        raise ValueError("r1_penalty needs real_images.requires_grad_(True) before D's forward pass")
    (grad,) = torch.autograd.grad(real_logits.float().sum(), real_images, create_graph=True)
    return grad.float().square().flatten(1).sum(dim=1).mean()


D_LOSSES = {"hinge": d_hinge, "nonsaturating": d_nonsaturating}
G_LOSSES = {"hinge": g_hinge, "nonsaturating": g_nonsaturating}
