"""The warping error (Lai et al. 2018) and its parts: DIS flow, backward warping, the reliability mask."""

from __future__ import annotations

import pytest
import torch

from artforge.metrics.flicker import flow, masked_error, reliable, warp, warping_error, warping_errors
from videos import pan, texture

pytestmark = pytest.mark.usefixtures("one_thread")

INNER = (slice(None), slice(None), slice(8, -8), slice(8, -8))   # away from the borders


@pytest.mark.parametrize("shift", [(3, -2), (0, 4), (-1, 0)])
def test_flow_recovers_an_integer_shift(shift):
    a, b = pan(2, step=shift)                  # b(x) = a(x + shift)  =>  a(x) = b(x - shift)
    f = flow(a, b)                             # (1, 2, H, W): a(x) ≈ b(x + f(x))
    assert f.shape == (1, 2, 48, 64)
    err = (f - torch.tensor([-shift[0], -shift[1]], dtype=torch.float32).view(1, 2, 1, 1))[INNER].abs()
    assert float(err.median()) < 0.05 and float(err.max()) < 0.5


def test_warp_by_a_known_flow_is_a_shift():
    x = texture(48, 64, seed=3)
    f = torch.zeros(1, 2, 48, 64)
    f[:, 0], f[:, 1] = 3.0, -2.0               # out(x, y) = x(x + 3, y - 2)
    out = warp(x, f)
    assert torch.allclose(out[..., 2:, :-3], x[..., :-2, 3:], atol=1e-5)
    half = warp(x, torch.full((1, 2, 48, 64), 0.5))    # bilinear: the mean of four neighbours
    quad = (x[..., :-1, :-1] + x[..., :-1, 1:] + x[..., 1:, :-1] + x[..., 1:, 1:]) / 4
    assert torch.allclose(half[..., :-1, :-1], quad, atol=1e-5)


def test_reliable_marks_pixels_from_outside_and_inconsistent_flow():
    back = torch.zeros(1, 2, 48, 64)
    back[:, 0] = 2.0                           # every pixel comes from 2 px to its right
    fwd = -back.clone()
    m = reliable(back, fwd)
    assert m.shape == (1, 1, 48, 64)
    assert m[..., :, :62].eq(1).all() and m[..., :, 62:].eq(0).all()   # the last 2 columns came from outside
    fwd[..., 10:20, 10:20] = 5.0               # the forward flow disagrees there: occluded
    m = reliable(back, fwd)
    assert m[..., 12:18, 10:16].eq(0).all() and m[..., 30:, 30:50].eq(1).all()


def test_masked_error_reference():
    a, b = torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4)
    b[..., :2, :] = 0.5                        # squared difference 0.25 on the top half
    full, top = torch.ones(1, 1, 4, 4), torch.zeros(1, 1, 4, 4)
    top[..., :2, :] = 1
    assert masked_error(a, b, full) == pytest.approx(0.125)
    assert masked_error(a, b, top) == pytest.approx(0.25)
    assert masked_error(a, b, torch.zeros(1, 1, 4, 4)) == 0.0


def test_a_steady_pan_scores_about_zero():
    frames = pan(6, step=(2, 1))
    errors = warping_errors(frames, frames)
    assert len(errors) == 5 and max(errors) < 1e-4


def test_independent_noise_scores_high():
    frames = pan(5)
    g = torch.Generator().manual_seed(0)
    noise = [torch.rand(1, 3, 48, 64, generator=g) for _ in frames]
    assert warping_error(noise, frames) == pytest.approx(1 / 6, abs=0.02)     # E[(u - v)^2], u, v ~ U(0, 1)
    flickering = [f + 0.1 * (torch.rand(f.shape, generator=g) - 0.5) for f in frames]
    assert warping_error(flickering, frames) == pytest.approx(2 * 0.1**2 / 12, rel=0.25)   # 2 var(noise)


def test_pictures_and_edge_cases():
    from artforge.pipelines.stylize import to_image

    frames = pan(3)
    assert warping_error([to_image(f) for f in frames], frames) < 1e-4     # PIL frames work too
    assert warping_error(frames[:1], frames[:1]) == 0.0
    with pytest.raises(ValueError, match="2 stylized frames for 3"):
        warping_error(frames[:2], frames)
