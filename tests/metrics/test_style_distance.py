"""Network-free style and content measures against known cases."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from artforge.metrics.style_distance import color_swd, edge_ssim, laplacian_pyramid, patch_swd, sliced_wasserstein


def texture(seed: int, cells: int = 8, px: int = 96) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return F.interpolate(torch.rand(1, 3, cells, cells, generator=g), size=(px, px), mode="bicubic",
                         align_corners=False).clamp(0, 1)


def test_sliced_wasserstein_of_a_shifted_one_dimensional_set_is_the_shift():
    a = torch.rand(500, 1, generator=torch.Generator().manual_seed(0))
    assert abs(sliced_wasserstein(a, a + 0.25) - 0.25) < 1e-5        # in 1-D every direction is +-1
    assert sliced_wasserstein(a, a) == 0.0


def test_laplacian_pyramid_adds_back_up_to_the_picture():
    x = texture(1)
    details, low = laplacian_pyramid(x, 3)[:-1], laplacian_pyramid(x, 3)[-1]
    up = F.interpolate(F.interpolate(low, size=details[1].shape[-2:], mode="bilinear", align_corners=False)
                       + details[1], size=x.shape[-2:], mode="bilinear", align_corners=False) + details[0]
    assert torch.allclose(up, x, atol=1e-5)


def test_patch_distance_orders_near_copies_before_other_textures():
    a = texture(2)
    noisy = (a + 0.02 * torch.randn(a.shape, generator=torch.Generator().manual_seed(3))).clamp(0, 1)
    other = texture(4, cells=24)                                        # finer grain, other colours
    assert patch_swd(a, a) == 0.0
    assert patch_swd(noisy, a) < patch_swd(other, a)
    assert patch_swd(a.flip(-1), a) < patch_swd(other, a)              # positions do not matter, patches do
    assert color_swd(a, a) == 0.0 and color_swd(a.flip(-1), a) < 1e-6 < color_swd(other, a)


def test_edge_ssim_keeps_edges_whatever_their_colours():
    g = torch.Generator().manual_seed(5)
    a = F.interpolate(torch.rand(1, 3, 8, 8, generator=g), size=(96, 96), mode="nearest")   # sharp-edged tiles
    recoloured = a[:, [2, 0, 1]] * 0.8 + 0.1                           # other colours, edges in the same places
    blurred = F.avg_pool2d(a, 9, 1, 4, count_include_pad=False)
    assert round(edge_ssim(a, a), 6) == 1.0
    assert edge_ssim(recoloured, a) > edge_ssim(texture(6), a)
    assert edge_ssim(blurred, a) < edge_ssim(recoloured, a)
    assert abs(edge_ssim(F.interpolate(a, size=(48, 48), mode="bilinear", antialias=True), a) - 1) < 0.5
