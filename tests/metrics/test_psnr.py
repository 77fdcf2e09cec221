"""PSNR: values from the formula, hand-checked luma, a scikit-image reference, edge cases."""

from __future__ import annotations

import math

import pytest
import torch

from artforge.metrics.psnr import psnr, rgb_to_y


def test_constant_offset_and_known_mse():
    a = torch.full((2, 3, 8, 8), 0.4, dtype=torch.float64)
    assert psnr(a, a + 0.1).tolist() == pytest.approx([20.0, 20.0], abs=1e-9)  # MSE 0.01 -> 20 dB
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(4, 3, 16, 16, generator=g), torch.rand(4, 3, 16, 16, generator=g)
    mse = ((x.double() - y.double()) ** 2).mean(dim=(1, 2, 3))
    assert psnr(x, y).tolist() == pytest.approx((10 * torch.log10(1 / mse)).tolist(), abs=1e-4)
    assert psnr(x * 255, y * 255, data_range=255.0).tolist() == pytest.approx(psnr(x, y).tolist(), abs=1e-4)


def test_identical_is_inf_and_single_image_is_a_batch_of_one():
    x = torch.rand(3, 12, 10)
    out = psnr(x, x)
    assert out.shape == (1,) and math.isinf(out.item()) and out.item() > 0


def test_luminance_hand_checked():
    white, black = torch.ones(1, 3, 1, 1), torch.zeros(1, 3, 1, 1)
    red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
    assert rgb_to_y(white).item() == pytest.approx(235 / 255)
    assert rgb_to_y(black).item() == pytest.approx(16 / 255)
    assert rgb_to_y(black * 255, data_range=255.0).item() == pytest.approx(16.0)
    # Two pixels, one red vs black (Y differs by 65.481/255), one equal: MSE = (65.481/255)^2 / 2.
    a, b = torch.cat([red, black], dim=3).double(), torch.cat([black, black], dim=3).double()
    expected = 10 * math.log10(2 * 255**2 / 65.481**2)
    assert psnr(a, b, luminance=True).item() == pytest.approx(expected, abs=1e-9)
    psnr_255 = psnr(a * 255, b * 255, data_range=255.0, luminance=True)
    assert psnr_255.item() == pytest.approx(expected, abs=1e-9)


def test_matches_scikit_image(reference_images):
    # Reference numbers from scikit-image 0.26.0 (numpy 2.4.6), on HWC float64 copies of the fixture:
    #   skimage.metrics.peak_signal_noise_ratio(clean, other, data_range=1.0)
    #   and for Y: y = skimage.color.rgb2ycbcr(img)[..., 0] / 255, then the same call on y.
    clean, noisy, blurred = reference_images
    for other, rgb_db, y_db in [
        (noisy, 30.905636512219786, 35.739171700708056),
        (blurred, 31.248847860054603, 35.99407107398512),
    ]:
        assert psnr(clean, other).item() == pytest.approx(rgb_db, abs=1e-9)
        assert psnr(clean, other, luminance=True).item() == pytest.approx(y_db, abs=1e-9)


def test_bad_shapes_are_clear_errors():
    with pytest.raises(ValueError, match="differ in shape"):
        psnr(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 5))
    with pytest.raises(ValueError, match="3-channel"):
        psnr(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4), luminance=True)
