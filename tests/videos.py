"""Small deterministic videos for tests: a smooth random texture panning by a known shift per frame."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def texture(h: int, w: int, seed: int = 0) -> torch.Tensor:
    """(1, 3, h, w) in [0, 1]: random colours upsampled 4x (bicubic), smooth enough for optical flow."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, h // 4, w // 4, generator=g)
    return F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)


def pan(n: int = 8, h: int = 48, w: int = 64, step: tuple[int, int] = (2, 1), seed: int = 0) -> list[torch.Tensor]:
    """n frames (1, 3, h, w): frame t shows the texture at offset t·step, so content moves by -step px."""
    dx, dy = step
    big = texture(h + abs(dy) * n + 8, w + abs(dx) * n + 8, seed)
    x0, y0 = 4 + (abs(dx) * n if dx < 0 else 0), 4 + (abs(dy) * n if dy < 0 else 0)
    return [big[:, :, y0 + t * dy:y0 + t * dy + h, x0 + t * dx:x0 + t * dx + w] for t in range(n)]
