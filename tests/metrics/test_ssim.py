"""SSIM: scikit-image reference values, identities and invariances that must hold."""

from __future__ import annotations

import pytest
import torch

from artforge.metrics.ssim import ssim

# From scikit-image 0.26.0 (numpy 2.4.6, scipy 1.17.1), on HWC float64 copies of the fixture images:
#   skimage.metrics.structural_similarity(clean, other, gaussian_weights=True, sigma=1.5,
#       use_sample_covariance=False, data_range=1.0, channel_axis=-1)
# and for "y": the same call, without channel_axis, on skimage.color.rgb2ycbcr(img)[..., 0] / 255.
SKIMAGE_SSIM = {  # name: (RGB, Y)
    "noisy": (0.8351249351014038, 0.8679311683941991),
    "blurred": (0.745983020577055, 0.8189908707461722),
}


def test_matches_scikit_image(reference_images):
    clean, noisy, blurred = reference_images
    for name, other in [("noisy", noisy), ("blurred", blurred)]:
        rgb_ref, y_ref = SKIMAGE_SSIM[name]
        assert ssim(clean, other).item() == pytest.approx(rgb_ref, abs=1e-12)
        assert ssim(clean, other, luminance=True).item() == pytest.approx(y_ref, abs=1e-12)
        assert ssim(clean * 255, other * 255, data_range=255.0).item() == pytest.approx(rgb_ref, abs=1e-12)
        assert ssim(clean.float(), other.float()).item() == pytest.approx(rgb_ref, abs=1e-5)


def test_identical_is_one_and_batch_shape():
    x = torch.rand(4, 3, 24, 20, generator=torch.Generator().manual_seed(0))
    assert ssim(x, x).tolist() == pytest.approx([1.0] * 4, abs=1e-6)
    assert ssim(x[0], x[0]).shape == (1,)


def test_symmetric_bounded_and_decreasing_with_noise():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, 3, 32, 32, generator=g)
    noise = torch.randn(x.shape, generator=g)
    scores = []
    for sigma in [0.01, 0.03, 0.1, 0.3]:
        y = x + sigma * noise  # no clamp: the distortion grows strictly with sigma
        s = ssim(x, y)
        assert torch.allclose(s, ssim(y, x), rtol=0, atol=1e-6)
        assert (s <= 1 + 1e-6).all()
        scores.append(s)
    for better, worse in zip(scores, scores[1:]):
        assert (better > worse).all()
    assert (ssim(x, 1 - x) < 0).all()  # an inverted image anti-correlates


def test_too_small_images_are_a_clear_error():
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(torch.zeros(1, 3, 10, 16), torch.zeros(1, 3, 10, 16))
