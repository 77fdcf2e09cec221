"""Decoding one image safely (every mode and format artists use) and preprocessing it."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from artforge.data.images import BadImage, decode_image, inspect_image, parse_colour, preprocess, to_tensor

BIG = 10**9  # a pixel limit no test image reaches


def png_claiming(width: int, height: int, body: bool = True) -> bytes:
    """A 1-bit PNG of the given size, all black: megapixels in the header, a few KB on disk."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(bytes(height * (1 + (width + 7) // 8)), 1) if body else b""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def noise(size=(48, 32), mode="RGB") -> Image.Image:
    return Image.effect_noise(size, 60).convert(mode)


def pixel(img: Image.Image, xy) -> tuple:
    return img.convert("RGB").getpixel(xy)


@pytest.mark.parametrize("fmt, ext", [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp"), ("BMP", "bmp"),
                                      ("TIFF", "tiff"), ("GIF", "gif")])
def test_every_supported_format_decodes(tmp_path, fmt, ext):
    p = tmp_path / f"x.{ext}"
    noise().save(p, fmt)
    img, info = decode_image(p, BIG)
    assert img.mode == "RGB" and img.size == (48, 32)
    assert (info.width, info.height, info.format) == (48, 32, fmt)


def test_gif_uses_the_first_frame(tmp_path):
    p = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (8, 8), c) for c in ("red", "blue")]
    frames[0].save(p, save_all=True, append_images=frames[1:], duration=100)
    img, _ = decode_image(p, BIG)
    assert pixel(img, (4, 4)) == (255, 0, 0)


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path):
    p = tmp_path / "grey16.png"
    Image.fromarray(np.full((8, 8), 32768, np.uint16)).save(p)
    img, info = decode_image(p, BIG)
    assert info.mode.startswith("I")
    assert all(abs(v - 128) <= 1 for v in pixel(img, (3, 3)))


def test_alpha_is_composited_over_the_background(tmp_path):
    p = tmp_path / "rgba.png"
    a = Image.new("RGBA", (10, 10), (255, 0, 0, 255))
    a.putpixel((0, 0), (255, 0, 0, 0))  # fully transparent corner
    a.save(p)
    img, _ = decode_image(p, BIG, background="#00ff00")
    assert pixel(img, (0, 0)) == (0, 255, 0) and pixel(img, (5, 5)) == (255, 0, 0)


def test_palette_with_transparency(tmp_path):
    p = tmp_path / "pal.png"
    im = Image.new("P", (6, 6), 1)
    im.putpalette([0, 0, 0, 10, 20, 200] + [0] * 762)
    im.putpixel((0, 0), 0)
    im.save(p, transparency=0)
    img, info = decode_image(p, BIG, background="#ff00ff")
    assert info.mode == "P"
    assert pixel(img, (0, 0)) == (255, 0, 255) and pixel(img, (3, 3)) == (10, 20, 200)


@pytest.mark.parametrize("mode", ["L", "LA", "1", "CMYK"])
def test_other_modes_become_rgb(tmp_path, mode):
    p = tmp_path / "m.tiff"
    noise(mode=mode).save(p)
    img, info = decode_image(p, BIG)
    assert img.mode == "RGB" and info.mode == mode


def test_cmyk_jpeg(tmp_path):
    p = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(p, quality=95)  # pure red ink
    img, info = decode_image(p, BIG)
    r, g, b = pixel(img, (8, 8))
    assert info.mode == "CMYK" and r > 200 and g < 60 and b < 60


def test_exif_orientation_is_applied(tmp_path):
    p = tmp_path / "rot.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    Image.new("RGB", (20, 10), "white").save(p, exif=exif)
    img, info = decode_image(p, BIG)
    assert img.size == (10, 20) and (info.width, info.height) == (10, 20)
    assert inspect_image(p, BIG).width == 10


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_files_are_rejected(tmp_path, fmt):
    p = tmp_path / "cut"
    noise((64, 64)).save(p, fmt)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadImage, match="^truncated$"):
        inspect_image(p, BIG)


def test_text_is_not_an_image(tmp_path):
    p = tmp_path / "notes.png"
    p.write_text("just some words\n")
    with pytest.raises(BadImage, match="^not an image$"):
        inspect_image(p, BIG)


def test_pixel_limit_is_checked_before_decoding(tmp_path):
    p = tmp_path / "bomb.png"
    p.write_bytes(png_claiming(10_000, 10_000))
    assert p.stat().st_size < 100_000
    with pytest.raises(BadImage, match=r"over pixel limit \(10000×10000 > max_pixels=1000000\)"):
        inspect_image(p, max_pixels=1_000_000)


def test_pillows_own_bomb_guard_is_caught(tmp_path):
    p = tmp_path / "huge.png"
    p.write_bytes(png_claiming(20_000, 20_000, body=False))  # 400 MP: Pillow refuses at open
    with pytest.raises(BadImage, match="over pixel limit"):
        inspect_image(p, BIG)


def test_known_but_unsupported_format_says_so(tmp_path):
    p = tmp_path / "x.ppm"
    noise().save(p, "PPM")
    with pytest.raises(BadImage, match="unsupported format: PPM"):
        inspect_image(p, BIG)


def test_big_jpegs_decode_at_reduced_scale_but_keep_enough_pixels(tmp_path):
    p = tmp_path / "big.jpg"
    noise((1600, 1200)).save(p)
    img, info = decode_image(p, BIG, resolution=64, crop="center")
    assert (info.width, info.height) == (1600, 1200)
    assert 128 <= min(img.size) < 1200
    assert preprocess(img, 64, "center", "#ffffff").size == (64, 64)


@pytest.mark.parametrize("size, crop, expect", [
    ((300, 200), "center", (64, 64)),
    ((200, 300), "center", (64, 64)),
    ((300, 150), "pad", (64, 64)),
    ((300, 200), "random", (96, 64)),
    ((600, 100), "random", (128, 64)),   # at most 2R of the long side is kept
    ((100, 600), "random", (64, 128)),
    ((20, 20), "center", (64, 64)),      # small images are upscaled
])
def test_preprocess_sizes(size, crop, expect):
    assert preprocess(Image.new("RGB", size, "red"), 64, crop, "#000000").size == expect


def test_pad_fills_with_the_background():
    out = preprocess(Image.new("RGB", (300, 150), "red"), 64, "pad", "#0000ff")
    assert out.getpixel((32, 2)) == (0, 0, 255) and out.getpixel((32, 32)) == (255, 0, 0)


def test_center_crop_keeps_the_middle():
    img = Image.new("RGB", (300, 100), "black")
    img.paste(Image.new("RGB", (100, 100), "white"), (100, 0))
    assert preprocess(img, 32, "center", "#000000").getpixel((16, 16)) == (255, 255, 255)


def test_to_tensor_and_colour_parsing():
    t = to_tensor(Image.new("RGB", (5, 4), (1, 2, 3)))
    assert t.dtype == torch.uint8 and t.shape == (3, 4, 5) and t[:, 0, 0].tolist() == [1, 2, 3]
    assert parse_colour("#FF8000") == (255, 128, 0)
    for bad in ("red", "#fff", "ff8000", "#gg0000", None):
        with pytest.raises(ValueError):
            parse_colour(bad)
