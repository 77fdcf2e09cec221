"""Small deterministic pictures for tests: made here, so no image files need shipping."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def draw_art(i: int, size: int = 40) -> Image.Image:
    """A small deterministic picture: a coloured disc on a two-tone background."""
    rng = np.random.default_rng(i)
    top, bottom, disc = (tuple(int(c) for c in rng.integers(0, 256, 3)) for _ in range(3))
    img = Image.new("RGB", (size, size), top)
    d = ImageDraw.Draw(img)
    d.rectangle([0, size // 2, size, size], fill=bottom)
    r = int(rng.integers(size // 6, size // 3))
    cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=disc)
    return img
