"""A second benchmark folder: a few hundred Noto Color Emoji pictures (faces, animals, plants, food).

The font is a Debian package (`apt-get install fonts-noto-color-emoji`); its images are Apache-2.0
(https://github.com/googlefonts/noto-emoji). Each emoji is rendered at the font's bitmap size (109 px)
onto white, centred on a 128 px canvas, and saved as PNG. Run:

    python bench/datasets/emoji.py OUT_DIR [--count 400]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
RANGES = [(0x1F600, 0x1F64F), (0x1F400, 0x1F43F), (0x1F980, 0x1F9AF), (0x1F330, 0x1F37F), (0x1F950, 0x1F96F),
          (0x1F300, 0x1F32F), (0x1F380, 0x1F3FF)]


def render(ch: str, font: ImageFont.FreeTypeFont, px: int = 128) -> Image.Image | None:
    glyph = Image.new("RGBA", (160, 160), (0, 0, 0, 0))
    ImageDraw.Draw(glyph).text((8, 8), ch, font=font, embedded_color=True)
    box = glyph.getbbox()
    if box is None or (box[2] - box[0]) < 40:   # no glyph in the font (.notdef renders empty)
        return None
    glyph = glyph.crop(box)
    canvas = Image.new("RGB", (px, px), "white")
    canvas.paste(glyph, ((px - glyph.width) // 2, (px - glyph.height) // 2), glyph)
    return canvas


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--count", type=int, default=400)
    args = ap.parse_args(argv)
    if not FONT.exists():
        print(f"error: {FONT} is missing: apt-get install fonts-noto-color-emoji", file=sys.stderr)
        return 2
    font = ImageFont.truetype(str(FONT), 109)
    args.out.mkdir(parents=True, exist_ok=True)
    n = 0
    for lo, hi in RANGES:
        for cp in range(lo, hi + 1):
            if n >= args.count:
                break
            img = render(chr(cp), font)
            if img is not None:
                img.save(args.out / f"u{cp:05x}.png")
                n += 1
    (args.out / "dataset.toml").write_text(
        'licence = "Apache-2.0 (Noto Color Emoji, Debian fonts-noto-color-emoji)"\nconsent = "published open-source artwork"\n')
    print(f'{{"images": {n}, "out": "{args.out}"}}')
    return 0


if __name__ == "__main__":
    sys.exit(main())
