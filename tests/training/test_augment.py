"""DiffAugment ops and the ADA probability controller."""

from __future__ import annotations

import pytest
import torch

from artforge.errors import ConfigError
from artforge.training.augment import AUGMENT_OPS, AdaptiveAugment, diff_augment


def images(b: int = 8, size: int = 16, seed: int = 0) -> torch.Tensor:
    return torch.rand(b, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_p0_is_identity():
    x = images()
    assert diff_augment(x, 0.0) is x
    assert diff_augment(x, 0.0, "color") is x


@pytest.mark.parametrize("policy", [*AUGMENT_OPS, "color,translation,cutout"])
def test_p1_changes_images_and_keeps_shape(policy):
    x = images()
    y = diff_augment(x, 1.0, policy, gen(0))
    assert y.shape == x.shape and y.dtype == x.dtype
    assert not torch.allclose(y, x)


@pytest.mark.parametrize("policy", [*AUGMENT_OPS, "color,translation,cutout"])
def test_gradient_flows_through(policy):
    x = images().requires_grad_(True)
    y = diff_augment(x, 1.0, policy, gen(0))
    (y * torch.randn_like(y)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_seeded_generator_is_deterministic():
    x = images()
    a = diff_augment(x, 0.5, generator=gen(7))
    b = diff_augment(x, 0.5, generator=gen(7))
    c = diff_augment(x, 0.5, generator=gen(8))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_probability_is_per_sample():
    x = images(1).repeat(64, 1, 1, 1)
    y = diff_augment(x, 0.5, "cutout", gen(0))
    changed = (y != x).flatten(1).any(dim=1)
    assert 16 < int(changed.sum()) < 48


def test_color_is_a_per_sample_affine_map_of_values():
    x = torch.full((4, 3, 8, 8), 0.2)  # a flat grey image stays flat (no spatial change)
    y = diff_augment(x, 1.0, "color", gen(0))
    assert torch.allclose(y, y[:, :, :1, :1].expand_as(y))
    assert not torch.allclose(y, x)


def test_translation_shifts_with_zero_fill():
    x = images(16, 16)
    y = diff_augment(x, 1.0, "translation", gen(3))
    max_shift = 2  # 1/8 of 16 px
    for b in range(len(x)):
        padded = torch.nn.functional.pad(x[b], (max_shift,) * 4)
        hits = [(dy, dx) for dy in range(-max_shift, max_shift + 1) for dx in range(-max_shift, max_shift + 1)
                if torch.equal(y[b], padded[:, max_shift - dy:max_shift - dy + 16, max_shift - dx:max_shift - dx + 16])]
        assert hits, f"sample {b} is not a zero-filled shift of its input"


def test_cutout_zeroes_one_square_and_keeps_the_rest():
    x = images(16, 16) * 0.5 + 0.6  # strictly positive, so zeros come from cutout only
    y = diff_augment(x, 1.0, "cutout", gen(0))
    zeroed = (y == 0).all(dim=1)  # (B, H, W)
    assert torch.equal(y[~zeroed.unsqueeze(1).expand_as(y)], x[~zeroed.unsqueeze(1).expand_as(x)])
    frac = zeroed.flatten(1).float().mean(dim=1)
    assert (frac > 0).all() and (frac <= 0.25).all()  # a square of half the side, possibly clipped


def test_unknown_op_is_a_config_error():
    with pytest.raises(ConfigError, match="rotate"):
        diff_augment(images(), 0.5, "color,rotate")


def test_channels_last_and_bfloat16_inputs():
    x = images().contiguous(memory_format=torch.channels_last)
    expected = diff_augment(x.contiguous(), 1.0, generator=gen(1))
    torch.testing.assert_close(diff_augment(x, 1.0, generator=gen(1)), expected)
    y = diff_augment(images().bfloat16(), 1.0, generator=gen(1))
    assert y.dtype == torch.bfloat16 and torch.isfinite(y.float()).all()


def test_ada_raises_p_when_d_is_overconfident_on_reals():
    ada = AdaptiveAugment(p=0.0, target=0.6, ada_kimg=1.0, interval=4)
    for step in range(1, 9):
        ada.accumulate(torch.full((16,), 3.0))
        ada.update(batch_size=16)
        if step < 4:
            assert ada.p == 0.0  # adjusts only every `interval` calls
    assert ada.rt == 1.0
    assert ada.p == pytest.approx(2 * 16 * 4 / 1000)


def test_ada_lowers_p_and_clamps_at_zero():
    ada = AdaptiveAugment(p=0.1, target=0.6, ada_kimg=1.0, interval=1)
    ada.accumulate(torch.tensor([1.0, -1.0, -2.0, 3.0]))  # r_t = 0 < target
    ada.update(batch_size=50)
    assert ada.rt == 0.0 and ada.p == pytest.approx(0.05)
    for _ in range(5):
        ada.accumulate(-torch.ones(4))
        ada.update(batch_size=50)
    assert ada.p == 0.0


def test_ada_clamps_at_p_max_and_disabled_keeps_p():
    ada = AdaptiveAugment(p=0.5, ada_kimg=0.001, interval=1, p_max=0.8)
    ada.accumulate(torch.ones(4)); ada.update(batch_size=8)
    assert ada.p == 0.8
    off = AdaptiveAugment(p=0.3, enabled=False, interval=1)
    off.accumulate(torch.ones(4)); off.update(batch_size=8)
    assert off.p == 0.3


def test_ada_state_dict_round_trip():
    ada = AdaptiveAugment(p=0.2, target=0.5, ada_kimg=2.0, interval=3)
    for _ in range(4):
        ada.accumulate(torch.randn(8, generator=gen(0)) + 1)
        ada.update(batch_size=8)
    state = ada.state_dict()
    assert all(type(v) in (int, float, bool) for v in state.values())
    other = AdaptiveAugment()
    other.load_state_dict(state)
    assert other.state_dict() == state
    for a in (ada, other):  # both carry on identically (including the partly-filled interval)
        for _ in range(2):
            a.accumulate(torch.ones(8)); a.update(batch_size=8)
    assert other.state_dict() == ada.state_dict()
