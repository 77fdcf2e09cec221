"""Adversarial losses against hand-computed values and the R1 penalty against analytic gradients."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from artforge.losses import D_LOSSES, G_LOSSES, d_hinge, d_nonsaturating, g_hinge, g_nonsaturating, r1_penalty

REAL = torch.tensor([2.0, 0.5, -1.0])
FAKE = torch.tensor([-2.0, 0.0, 1.0])


def test_hinge_reference_values():
    # relu(1 - real) = [0, 0.5, 2] -> 5/6; relu(1 + fake) = [0, 1, 2] -> 1
    assert float(d_hinge(REAL, FAKE)) == pytest.approx(5 / 6 + 1)
    assert float(g_hinge(FAKE)) == pytest.approx(-(-2.0 + 0.0 + 1.0) / 3)


def test_nonsaturating_is_the_softplus_formula():
    def sp(v: float) -> float:
        return math.log1p(math.exp(v))

    expected_d = sum(sp(-r) for r in REAL.tolist()) / 3 + sum(sp(f) for f in FAKE.tolist()) / 3
    assert float(d_nonsaturating(REAL, FAKE)) == pytest.approx(expected_d)
    assert float(g_nonsaturating(FAKE)) == pytest.approx(sum(sp(-f) for f in FAKE.tolist()) / 3)
    bce = F.binary_cross_entropy_with_logits(REAL, torch.ones(3))
    bce = bce + F.binary_cross_entropy_with_logits(FAKE, torch.zeros(3))
    assert float(d_nonsaturating(REAL, FAKE)) == pytest.approx(float(bce))


def test_registries_and_low_precision_logits():
    assert set(D_LOSSES) == set(G_LOSSES) == {"hinge", "nonsaturating"}
    for name in D_LOSSES:
        d = D_LOSSES[name](REAL.bfloat16(), FAKE.bfloat16())
        g = G_LOSSES[name](FAKE.bfloat16())
        assert d.dtype == g.dtype == torch.float32 and d.ndim == g.ndim == 0


def test_r1_linear_discriminator_is_norm_of_weights():
    w = torch.tensor([[1.0, -2.0], [0.5, 3.0]])  # D(x) = sum(w * x): grad = w for every sample
    x = torch.randn(5, 2, 2, requires_grad=True)
    logits = (x * w).flatten(1).sum(dim=1)
    assert float(r1_penalty(logits, x)) == pytest.approx(float(w.square().sum()))


def test_r1_quadratic_is_differentiable_into_d():
    scale = torch.tensor(1.5, requires_grad=True)  # D(x) = scale * sum(x^2): grad = 2 scale x
    x = torch.tensor([[1.0, 2.0], [0.0, -1.0]], requires_grad=True)
    penalty = r1_penalty(scale * x.square().sum(dim=1), x)
    expected = (4 * 1.5**2 * (5.0 + 1.0)) / 2  # mean over 2 samples of ||2 scale x||^2
    assert penalty.item() == pytest.approx(expected)
    penalty.backward()
    assert float(scale.grad) == pytest.approx(2 * expected / 1.5)


def test_r1_needs_images_that_require_grad():
    with pytest.raises(ValueError, match="requires_grad"):
        r1_penalty(torch.zeros(2), torch.zeros(2, 3))
