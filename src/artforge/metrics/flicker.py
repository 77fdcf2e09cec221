"""Flicker of a stylized video: the warping error of Lai et al. 2018.

Lai, Huang, Wang, Shechtman, Yumer & Yang (ECCV 2018), "Learning Blind Video Temporal Consistency", §5:
for each pair of consecutive frames, the previous OUTPUT is warped onto the current one along the
optical flow of the INPUT video, and the squared difference is averaged where the flow is reliable:

    E_warp(O_t, O_t-1) = sum_x M_t(x) ||O_t(x) - W(O_t-1)(x)||² / (3 · sum_x M_t(x))
    E_warp(O) = mean over t = 2..T of E_warp(O_t, O_t-1)

in [0, 1] pixel units: squared (not absolute) differences, averaged over the three RGB channels as
well as the pixels (Lai et al.'s per-pixel sum over channels, divided by 3). W is backward warping by
flow(I_t, I_t-1) and M_t the reliability mask of forward-backward consistency, motion boundaries and
leaving the frame (Ruder et al. 2016), both in `pipelines/flow.py`. Lai et al. took FlowNet2's flow;
we take DIS (OpenCV), so numbers compare across artforge runs, not with the paper's tables.

A pair with no reliable pixel (a scene cut, say) counts 0, as in Lai et al.'s evaluation code; a video
of one frame scores 0. Identical frames moving by a flow DIS recovers score about 0; independent uniform
noise scores about 1/6 (E[(u - v)²] for u, v ~ U(0, 1)).

>>> import torch
>>> yy, xx = torch.meshgrid(torch.arange(48.0), torch.arange(64.0), indexing="ij")
>>> pan = [(0.5 + 0.25 * torch.sin((xx + 2 * t) / 3) * torch.cos(yy / 4)).expand(1, 3, 48, 64) for t in range(4)]
>>> warping_error(pan, pan) < 1e-4                       # stylized == input, a steady pan: no flicker
True
>>> noise = [torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(t)) for t in range(4)]
>>> round(warping_error(noise, pan), 2)
0.17
"""

from __future__ import annotations

from typing import Sequence

import torch

from ..pipelines.flow import flow, flow_and_mask, frame_tensor, reliable, warp

__all__ = ["flow", "masked_error", "reliable", "warp", "warping_error", "warping_errors"]


def masked_error(current: torch.Tensor, warped_previous: torch.Tensor, mask: torch.Tensor) -> float:
    """Mean squared difference of (1, 3, H, W) pictures over the pixels where the (1, 1, H, W) mask is 1.

    0.0 when the mask is empty (nothing to compare).
    """
    n = float(mask.sum()) * current.shape[1]
    if n == 0:
        return 0.0
    return float(((current - warped_previous) ** 2 * mask).sum()) / n


def warping_errors(stylized: Sequence, inputs: Sequence) -> list[float]:
    """E_warp of each consecutive pair (T - 1 numbers); frames are PIL pictures or tensors in [0, 1]."""
    if len(stylized) != len(inputs):
        raise ValueError(f"{len(stylized)} stylized frames for {len(inputs)} input frames")
    out = []
    for t in range(1, len(inputs)):
        cur_in, prev_in = frame_tensor(inputs[t]), frame_tensor(inputs[t - 1])
        cur, prev = frame_tensor(stylized[t]), frame_tensor(stylized[t - 1])
        if cur.shape != cur_in.shape or prev.shape != prev_in.shape:
            raise ValueError(f"frame {t}: stylized {tuple(cur.shape)} and input {tuple(cur_in.shape)} differ in size")
        back, mask = flow_and_mask(cur_in, prev_in)              # (1, 2, H, W), (1, 1, H, W)
        out.append(masked_error(cur, warp(prev, back), mask))
    return out


def warping_error(stylized: Sequence, inputs: Sequence) -> float:
    """Lai et al.'s E_warp of a stylized video against the video it was made from (lower flickers less).

    `stylized` and `inputs` are equally long lists of frames: PIL pictures or (1, 3, H, W) / (3, H, W)
    tensors in [0, 1]. See the module docstring for the definition.
    """
    errors = warping_errors(stylized, inputs)
    return sum(errors) / len(errors) if errors else 0.0
