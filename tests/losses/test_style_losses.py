"""Style-transfer losses against their formulas, written out with loops or numpy on tiny tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from artforge.losses.style import (STYLE_LOSSES, blend_statistics, content_loss, gram, mean_std, softmax_transform,
                                   statistics_loss, statistics_scale, style_statistics, tv_loss)

GEN = torch.Generator().manual_seed(0)
F = torch.randn(2, 3, 4, 5, generator=GEN, dtype=torch.float64)


def test_gram_is_the_mean_of_channel_products():
    g = gram(F)
    assert g.shape == (2, 3, 3)
    for b in range(2):
        for i in range(3):
            for j in range(3):
                expected = sum(float(F[b, i, y, x] * F[b, j, y, x]) for y in range(4) for x in range(5)) / 20
                assert float(g[b, i, j]) == pytest.approx(expected, rel=1e-6)
    # size-independent: the same texture tiled twice has the same Gram matrix
    assert torch.allclose(gram(torch.cat([F, F], dim=3)), g.float(), atol=1e-6)


def test_mean_std_matches_numpy_population_statistics():
    mu, sd = mean_std(F, eps=0.0)
    x = F.numpy().reshape(2, 3, -1)
    assert np.allclose(mu.numpy(), x.mean(-1), atol=1e-6)
    assert np.allclose(sd.numpy(), x.std(-1, ddof=0), atol=1e-6)
    _, sd_eps = mean_std(torch.zeros(1, 2, 3, 3), eps=1e-4)
    assert torch.allclose(sd_eps, torch.full((1, 2), 1e-2))


def test_softmax_transform_is_n_times_a_spatial_softmax_per_channel():
    t = 2.5
    s = softmax_transform(F, t)
    n = 20
    for b in range(2):
        for c in range(3):
            e = np.exp(F[b, c].numpy() / t)
            assert np.allclose(s[b, c].numpy(), n * e / e.sum(), rtol=1e-5)
    assert torch.allclose(s.sum(dim=(2, 3)), torch.full((2, 3), float(n)))       # each channel sums to N
    # a per-channel shift changes nothing (the channel's level is dropped), a flat map becomes all ones
    assert torch.allclose(softmax_transform(F + torch.tensor([1.0, -3.0, 7.0])[:, None, None], t), s, atol=1e-5)
    assert torch.equal(softmax_transform(torch.full((1, 1, 3, 3), 4.0)), torch.ones(1, 1, 3, 3))
    # a higher temperature is flatter: lower peak, higher entropy
    assert float(softmax_transform(F, 10.0).amax()) < float(softmax_transform(F, 0.5).amax())


def test_content_loss_is_the_mean_squared_difference():
    p = torch.randn(F.shape, generator=GEN, dtype=torch.float64)
    assert float(content_loss(F, p)) == pytest.approx(float(((F - p) ** 2).sum()) / F.numel(), rel=1e-6)
    assert float(content_loss(F, F)) == 0.0


def test_statistics_by_kind_and_their_loss():
    g, = style_statistics(F, "gram")
    assert torch.equal(g, gram(F))
    sg, = style_statistics(F, "softmax-gram", temperature=3.0)
    assert torch.allclose(sg, gram(softmax_transform(F, 3.0)))
    mu, sd = style_statistics(F, "mean-std")
    other = style_statistics(F * 2, "mean-std")
    expected = float(((mu - other[0]) ** 2).mean() + ((sd - other[1]) ** 2).mean())
    assert float(statistics_loss((mu, sd), other)) == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="unknown style loss"):
        style_statistics(F, "vgg")
    assert set(STYLE_LOSSES) == {"gram", "softmax-gram", "mean-std"}


def test_statistics_scale_is_the_distance_from_a_featureless_map():
    t = (torch.tensor([[1.0, 2.0], [3.0, 4.0]]),)
    assert statistics_scale(t, eps=0.0) == pytest.approx((1 + 4 + 9 + 16) / 4)
    assert statistics_scale(t, (torch.ones(2, 2),), eps=0.0) == pytest.approx((0 + 1 + 4 + 9) / 4)


def test_blend_equals_the_weighted_sum_of_per_style_losses_up_to_a_constant():
    a, b = (torch.randn(3, 3, generator=GEN, dtype=torch.float64),), (torch.randn(3, 3, generator=GEN,
                                                                                   dtype=torch.float64),)
    w = [0.7, 0.3]
    blend = blend_statistics([a, b], [7, 3])                    # weights are normalised
    assert torch.allclose(blend[0], 0.7 * a[0] + 0.3 * b[0])
    x = torch.randn(3, 3, generator=GEN, dtype=torch.float64, requires_grad=True)
    g1, = torch.autograd.grad(w[0] * statistics_loss((x,), a) + w[1] * statistics_loss((x,), b), x)
    g2, = torch.autograd.grad(statistics_loss((x,), blend), x)
    assert torch.allclose(g1, g2)                                # same gradient, so the same optimum
    with pytest.raises(ValueError):
        blend_statistics([a, b], [1.0])
    with pytest.raises(ValueError):
        blend_statistics([a, b], [1.0, -1.0])


def test_tv_loss_is_mean_squared_neighbour_differences():
    x = torch.randn(1, 2, 3, 4, generator=GEN, dtype=torch.float64)
    dv = [float(x[0, c, i + 1, j] - x[0, c, i, j]) ** 2 for c in range(2) for i in range(2) for j in range(4)]
    dh = [float(x[0, c, i, j + 1] - x[0, c, i, j]) ** 2 for c in range(2) for i in range(3) for j in range(3)]
    assert float(tv_loss(x)) == pytest.approx(sum(dv) / len(dv) + sum(dh) / len(dh), rel=1e-6)
    assert float(tv_loss(torch.full((1, 3, 5, 5), 0.3))) == 0.0


def test_losses_are_differentiable_and_float32_on_half_inputs():
    x = torch.randn(1, 4, 6, 6, generator=GEN, requires_grad=True)
    target = tuple(t.detach() for t in style_statistics(torch.randn(1, 4, 6, 6, generator=GEN), "softmax-gram", 2.0))
    loss = statistics_loss(style_statistics(x, "softmax-gram", 2.0), target) + tv_loss(x)
    loss.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert gram(x.detach().bfloat16()).dtype == torch.float32
