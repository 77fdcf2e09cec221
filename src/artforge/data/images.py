"""Decode one image file safely and turn it into a square-ish RGB training image.

Safety first: the pixel count is checked from the header before any pixel is decoded (Image.open is
lazy), truncated files are errors (we never set LOAD_TRUNCATED_IMAGES), and only the formats artists
actually use are decoded. Problems surface as `BadImage(reason)`, where `reason` is a short phrase
the check report shows next to the file.

>>> from PIL import Image
>>> preprocess(Image.new("RGB", (300, 200), "red"), 64, "center", "#ffffff").size
(64, 64)
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

# Decoders artists' files need; the other Pillow plugins are rarely used and less hardened.
# (Multi-picture JPEGs from cameras open through "JPEG" and report format "MPO"; we call them JPEG.)
FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF")
CROPS = ("center", "random", "pad")
_HIGH_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_ALPHA_MODES = ("RGBA", "LA", "PA", "La", "RGBa")


class BadImage(Exception):
    """A file that cannot be used as an image; str(e) is the reason shown to the user."""


@dataclass
class ImageInfo:
    """What the header says: size after EXIF orientation, the stored mode, the format."""

    width: int
    height: int
    mode: str
    format: str


def parse_colour(text: str) -> tuple[int, int, int]:
    """'#rrggbb' -> (r, g, b); anything else raises ValueError.

    >>> parse_colour("#ff8000")
    (255, 128, 0)
    """
    if not isinstance(text, str) or not re.fullmatch(r"#[0-9a-fA-F]{6}", text):
        raise ValueError(f"not a '#rrggbb' colour: {text!r}")
    return tuple(int(text[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def inspect_image(path: str | Path, max_pixels: int) -> ImageInfo:
    """Open and fully decode `path` (so truncation is caught) and describe it; raises BadImage."""
    with open(path, "rb") as f, _quiet():
        img, info = _open_verified(f, max_pixels, draft_size=None)
        img.close()
    return info


def decode_image(
    path: str | Path,
    max_pixels: int,
    background: str = "#ffffff",
    resolution: int | None = None,
    crop: str = "center",
) -> tuple[Image.Image, ImageInfo]:
    """Decode `path` to an upright RGB image (alpha composited over `background`); raises BadImage.

    Given the target `resolution`/`crop`, big JPEGs are decoded at a reduced DCT scale that still
    leaves at least twice the pixels `preprocess` needs, which is several times faster.
    """
    with open(path, "rb") as f, _quiet():
        img, info = _open_verified(f, max_pixels, _draft_target(resolution, crop))
        try:
            img = _upright(img)
            return _to_rgb(img, parse_colour(background)), info
        except Exception as e:  # a decoder or converter bug must cost one file, not the whole run
            raise BadImage(f"unreadable: {type(e).__name__}: {e}") from None


def preprocess(img: Image.Image, resolution: int, crop: str, background: str) -> Image.Image:
    """Resize an RGB image for training at `resolution` px.

    center: short side to R, centre square kept.  pad: long side to R, padded with `background`.
    random: short side to R and at most 2R of the long side (centred) kept; the final R x R crop is
    drawn at batch time so every epoch sees a different part.
    """
    if crop not in CROPS:
        raise ValueError(f"unknown crop policy {crop!r}")
    r = resolution
    w, h = img.size
    if crop == "pad":
        scale = r / max(w, h)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = _resize(img, size, (0, 0, w, h))
        canvas = Image.new("RGB", (r, r), parse_colour(background))
        canvas.paste(small, ((r - size[0]) // 2, (r - size[1]) // 2))
        return canvas
    short = min(w, h)
    keep = short if crop == "center" else min(max(w, h), 2 * short)
    kw, kh = (keep, short) if w >= h else (short, keep)
    box = ((w - kw) / 2, (h - kh) / 2, (w + kw) / 2, (h + kh) / 2)
    out_long = max(r, min(2 * r, round(r * keep / short)))
    size = (out_long, r) if w >= h else (r, out_long)
    return _resize(img, size, box)


def to_tensor(img: Image.Image) -> torch.Tensor:
    """RGB PIL image -> uint8 tensor (3, H, W)."""
    arr = np.asarray(img.convert("RGB"), dtype=np.uint8)  # (H, W, 3)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()


# --- opening and verifying -------------------------------------------------------------------


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # Pillow warns about corrupt EXIF, odd palettes and (since we do our own check) big images;
    # the check report is where problems belong, not a wall of warnings.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _open_verified(f, max_pixels: int, draft_size) -> tuple[Image.Image, ImageInfo]:
    """Open from a file object, check the pixel count from the header, then decode every pixel."""
    try:
        img = Image.open(f, formats=FORMATS)
    except Image.DecompressionBombError as e:
        raise BadImage(_bomb_reason(str(e), max_pixels)) from None
    except UnidentifiedImageError:
        raise BadImage(_unidentified_reason(f)) from None
    except Exception as e:
        raise BadImage(_load_reason(e)) from None
    w, h = img.size
    if w * h > max_pixels:
        raise BadImage(f"over pixel limit ({w}×{h} > max_pixels={max_pixels})")
    info = ImageInfo(w, h, img.mode, "JPEG" if img.format == "MPO" else str(img.format))
    if _orientation(img) in (5, 6, 7, 8):  # these EXIF orientations swap width and height
        info.width, info.height = h, w
    try:
        if draft_size is not None and img.format in ("JPEG", "MPO"):
            img.draft(None, draft_size(w, h))
        img.load()
    except Exception as e:
        raise BadImage(_load_reason(e)) from None
    return img, info


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(0x0112, 1))
    except Exception:  # unreadable EXIF: treat as upright rather than reject a good picture
        return 1


def _load_reason(e: Exception) -> str:
    msg = str(e)
    if isinstance(e, EOFError) or "truncat" in msg.lower():
        return "truncated"
    return f"unreadable: {type(e).__name__}: {msg}" if msg else f"unreadable: {type(e).__name__}"


def _bomb_reason(msg: str, max_pixels: int) -> str:
    m = re.search(r"\((\d+) pixels\)", msg)
    size = f"{m.group(1)} pixels" if m else "too many pixels"
    return f"over pixel limit ({size} > max_pixels={max_pixels}, Pillow's decompression-bomb guard)"


def _unidentified_reason(f) -> str:
    # Say "unsupported format: PSD" rather than "not an image" when Pillow knows the format,
    # so the artist knows converting the file will fix it. Only the header is parsed here.
    try:
        f.seek(0)
        with Image.open(f) as other:
            return f"unsupported format: {other.format} (convert it to PNG or JPEG)"
    except Exception:
        return "not an image"


def _draft_target(resolution: int | None, crop: str):
    if resolution is None:
        return None

    def size(w: int, h: int) -> tuple[int, int]:
        # Keep >= 2x the pixels preprocess needs, so the final Lanczos resize still has detail to use.
        side = max(w, h) if crop == "pad" else min(w, h)
        k = min(1.0, 2 * resolution / side)
        return (max(1, math.ceil(w * k)), max(1, math.ceil(h * k)))

    return size


# --- colour handling -------------------------------------------------------------------------


def _upright(img: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(img) or img
    except Exception:  # broken EXIF block: keep the pixels as stored
        return img


def _to_rgb(img: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """Any Pillow mode -> RGB: 16-bit scaled (not clipped), palettes expanded, alpha composited."""
    if img.mode in _HIGH_BIT_MODES or img.mode == "F":
        img = _high_bit_to_l(img)
    if img.mode in ("CMYK", "RGB") and img.info.get("icc_profile"):
        img = _icc_to_srgb(img) or img
    if img.mode in _ALPHA_MODES or "transparency" in img.info:
        rgba = img.convert("RGBA")
        out = Image.new("RGB", rgba.size, background)
        out.paste(rgba.convert("RGB"), mask=rgba.getchannel("A"))
        return out
    if img.mode == "1":
        img = img.convert("L")
    return img.convert("RGB") if img.mode != "RGB" else img.copy()


def _high_bit_to_l(img: Image.Image) -> Image.Image:
    arr = np.asarray(img).astype(np.float64)
    if img.mode == "F":
        scale = 255.0 if arr.size and np.nanmax(arr) <= 1.0 else 1.0
    else:
        # 16-bit data lives in 0..65535 (even in mode "I"); 65535 / 257 == 255 exactly.
        top = float(arr.max()) if arr.size else 0.0
        scale = 1 / 257 if top <= 65535 else 255.0 / top
    out = np.clip(np.nan_to_num(arr * scale).round(), 0, 255).astype(np.uint8)
    return Image.fromarray(out, "L")


@functools.cache
def _srgb_profile():
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _icc_to_srgb(img: Image.Image) -> Image.Image | None:
    # Naive CMYK->RGB and ignoring wide-gamut profiles (Display P3, Adobe RGB) give visibly wrong
    # colours; converting through the embedded profile is what every image viewer does.
    try:
        from PIL import ImageCms

        src = ImageCms.ImageCmsProfile(io.BytesIO(img.info["icc_profile"]))
        return ImageCms.profileToProfile(img, src, _srgb_profile(), outputMode="RGB")
    except Exception:  # no littlecms, or a broken profile: fall back to Pillow's plain conversion
        return None


def _resize(img: Image.Image, size: tuple[int, int], box) -> Image.Image:
    # reducing_gap first shrinks by an integer factor (box filter), then Lanczos finishes:
    # near-identical to pure Lanczos and much faster on big photos.
    return img.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
