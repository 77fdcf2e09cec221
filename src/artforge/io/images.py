"""Turning tensors into pictures: uint8 conversion, grids, PNGs with text chunks."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image, PngImagePlugin

from .atomic import atomic_save


def uint8_images(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) floats in [-1, 1] -> uint8 (B, 3, H, W) on the same device, rounding to nearest; values
    outside [-1, 1] are clamped first. The one conversion every sample, grid and metric goes through.

    >>> uint8_images(torch.tensor([[[[-1.0, 0.0, 1.0, 7.0]]]])).tolist()
    [[[[0, 128, 255, 255]]]]
    """
    x = images.detach().float().clamp(-1, 1)
    return ((x + 1) * 127.5).round().to(torch.uint8)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) floats in [-1, 1] -> (B, H, W, 3) uint8 numpy, as `uint8_images`."""
    return uint8_images(images.cpu()).permute(0, 2, 3, 1).contiguous().numpy()


def to_pil(images: torch.Tensor) -> list[Image.Image]:
    return [Image.fromarray(a) for a in to_uint8(images)]


def make_grid(images: torch.Tensor, nrow: int | None = None, pad: int = 2, fill: int = 0) -> Image.Image:
    """Tile (B, 3, H, W) images in [-1, 1] into one picture, `nrow` per row (default: near-square)."""
    arr = to_uint8(images)
    b, h, w, _ = arr.shape
    nrow = nrow or math.ceil(math.sqrt(b))
    rows = math.ceil(b / nrow)
    canvas = np.full((rows * (h + pad) + pad, nrow * (w + pad) + pad, 3), fill, np.uint8)
    for i, a in enumerate(arr):
        r, c = divmod(i, nrow)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        canvas[y:y + h, x:x + w] = a
    return Image.fromarray(canvas)


def save_png(image: Image.Image, path: str | Path, text: dict[str, str] | None = None) -> None:
    """Save a PNG atomically, with `text` as iTXt chunks (UTF-8, readable by any PNG tool)."""
    info = PngImagePlugin.PngInfo()
    for k, v in (text or {}).items():
        info.add_itxt(k, v)
    atomic_save(path, lambda tmp: image.save(tmp, format="PNG", pnginfo=info))


def upscale_nearest(image: Image.Image, min_px: int = 256) -> Image.Image:
    """Enlarge small pictures by a whole factor so that a person can see them (pixels stay sharp)."""
    f = max(1, math.ceil(min_px / max(image.size)))
    return image if f == 1 else image.resize((image.width * f, image.height * f), Image.NEAREST)
