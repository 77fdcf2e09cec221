"""Optical flow between video frames, backward warping, and where the flow can be trusted.

Conventions (OpenCV's): `flow(a, b)` is a (1, 2, H, W) field of (dx, dy) in pixels with
a(x) ≈ b(x + flow(x)); `warp(b, flow(a, b))` therefore looks like `a`. To bring the previous frame's
picture onto the current frame, ask for the flow from the current frame to the previous one:

    >>> import torch
    >>> yy, xx = torch.meshgrid(torch.arange(48.0), torch.arange(64.0), indexing="ij")
    >>> texture = lambda dx: (0.5 + 0.25 * torch.sin((xx + dx) / 3) * torch.cos(yy / 4)).expand(1, 3, 48, 64)
    >>> prev, cur = texture(0), texture(2)                 # the picture moved 2 px to the left
    >>> back = flow(cur, prev)                             # cur(x) ≈ prev(x + back(x))
    >>> round(float(back[0, 0, 8:-8, 8:-8].mean()), 2)
    2.0
    >>> bool((warp(prev, back) - cur)[..., 8:-8, 8:-8].abs().max() < 0.01)
    True

Flow is DIS (Kroeger et al. 2016, "Fast Optical Flow using Dense Inverse Search", OpenCV's MEDIUM
preset) on 8-bit BT.601 luma. Reliability follows Ruder et al. 2016 ("Artistic style transfer for videos"),
after Sundaram et al. 2010: a pixel is trusted when the forward and backward flows undo each other,
|w + ŵ|² <= 0.01 (|w|² + |ŵ|²) + 0.5 (w the backward flow, ŵ the forward flow where w lands), it is not
on a motion boundary, |∇w|² <= 0.01 |w|² + 0.002,
and it comes from inside the previous frame.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .color import rgb_to_ycbcr


def frame_tensor(frame: Image.Image | torch.Tensor) -> torch.Tensor:
    """A PIL picture or a (3, H, W) / (1, 3, H, W) tensor in [0, 1] -> (1, 3, H, W) float32 on the CPU."""
    if isinstance(frame, Image.Image):
        arr = np.asarray(frame.convert("RGB"), dtype=np.float32) / 255.0      # (H, W, 3)
        return torch.from_numpy(arr).permute(2, 0, 1)[None].contiguous()
    x = frame.detach().to("cpu", torch.float32)
    x = x[None] if x.dim() == 3 else x
    if x.dim() != 4 or x.shape[:2] != (1, 3):
        raise ValueError(f"expected a (1, 3, H, W) or (3, H, W) frame, got {tuple(frame.shape)}")
    return x


def _gray_u8(x: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) in [0, 1] -> (H, W) uint8 luma, what OpenCV's flow takes."""
    y = rgb_to_ycbcr(x.clamp(0, 1))[0, 0]                                    # (H, W)
    return (y * 255.0).round().to(torch.uint8).numpy()


def flow(a: Image.Image | torch.Tensor, b: Image.Image | torch.Tensor) -> torch.Tensor:
    """(1, 2, H, W) float32 (dx, dy) in px with a(x) ≈ b(x + flow(x)), by DIS optical flow."""
    import cv2                                                  # here: importing artforge never loads OpenCV

    ga, gb = _gray_u8(frame_tensor(a)), _gray_u8(frame_tensor(b))
    if ga.shape != gb.shape:
        raise ValueError(f"flow between frames of different sizes {ga.shape} and {gb.shape}")
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    f = dis.calc(ga, gb, None)                                  # (H, W, 2)
    return torch.from_numpy(f).permute(2, 0, 1)[None].contiguous()


def _grid(flow_px: torch.Tensor) -> torch.Tensor:
    """Sampling positions x + flow(x) in grid_sample's [-1, 1] units (align_corners=True): (B, H, W, 2)."""
    _, _, h, w = flow_px.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=flow_px.dtype, device=flow_px.device),
                            torch.arange(w, dtype=flow_px.dtype, device=flow_px.device), indexing="ij")
    x = (xs + flow_px[:, 0]) * (2.0 / max(w - 1, 1)) - 1.0      # (B, H, W)
    y = (ys + flow_px[:, 1]) * (2.0 / max(h - 1, 1)) - 1.0
    return torch.stack([x, y], dim=-1)


def warp(image: torch.Tensor, flow_px: torch.Tensor) -> torch.Tensor:
    """out(x) = image(x + flow(x)), bilinear; (B, C, H, W) with a (B, 2, H, W) flow in px.

    Positions outside the image take the nearest border value (`reliable` marks them untrusted).
    """
    flow_px = flow_px.to(image.dtype)
    return F.grid_sample(image, _grid(flow_px), mode="bilinear", padding_mode="border", align_corners=True)


def reliable(backward: torch.Tensor, forward: torch.Tensor) -> torch.Tensor:
    """(1, 1, H, W) float mask, 1 where the current frame's flow to the previous one can be trusted.

    `backward` = flow(current, previous), `forward` = flow(previous, current), both (1, 2, H, W).
    """
    _, _, h, w = backward.shape
    fwd_at = warp(forward, backward)                            # ŵ: the forward flow where each pixel lands
    sq = lambda v: (v * v).sum(1, keepdim=True)                 # (1, 1, H, W) squared length
    consistent = sq(backward + fwd_at) <= 0.01 * (sq(backward) + sq(fwd_at)) + 0.5
    gy = F.pad(backward[..., 1:, :] - backward[..., :-1, :], (0, 0, 0, 1))   # forward differences, 0 at the end
    gx = F.pad(backward[..., :, 1:] - backward[..., :, :-1], (0, 1))
    smooth = sq(gx) + sq(gy) <= 0.01 * sq(backward) + 0.002
    pos = _grid(backward)                                       # (1, H, W, 2), inside the frame in [-1, 1]
    inside = (pos.abs() <= 1.0).all(-1)[:, None]
    return (consistent & smooth & inside).float()


def flow_and_mask(current: torch.Tensor, previous: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(flow(current, previous), its reliability mask): what brings the previous frame onto this one."""
    back = flow(current, previous)
    return back, reliable(back, flow(previous, current))
