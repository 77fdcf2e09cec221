"""Which EfficientNet-Lite0 features and style statistics give clean stylizations (JSON lines, figures).

For each style image and each family of feature taps ("residual": the blocks' outputs; "relu6": inside
the blocks after the expansion's ReLU6), stylizes one photograph with (a) Gram matrices of the raw
features, (b) Gram matrices after Wang et al.'s softmax transformation, (c) per-channel mean/std, and
writes the side by side docs/style.md shows. Then: L-BFGS vs Adam on the default, the default's time
at several sizes, and the colour-preservation modes.

Every run prints one JSON line: seconds, the loss parts, and measures that do not use the feature
network: `color_swd` (sliced Wasserstein distance between the RGB values of result and style; lower is
closer in palette), `ssim_y` (SSIM of luminance against the content; higher keeps more of it) and `hf`
(mean |Laplacian| of the luminance, x1000: pixel-level grain; compare with the style's `hf_style`).

    python bench/style_compare.py                    # all sections, figures into docs/images/style/
    python bench/style_compare.py --only sizes --sizes 256,512,1024,2048
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import matplotlib
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from artforge.features.taps import FeatureTaps
from artforge.metrics.ssim import ssim
from artforge.pipelines.color import rgb_to_ycbcr
from artforge.pipelines.stylize import (PRESETS, StylizeLog, feature_net_handle, loss_config, read_input, resize_long,
                                        stylize, to_image)

ROOT = Path(__file__).resolve().parents[1]
CONTENT = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"   # public domain (US Navy)
DEFAULTS = dict(content_weight=1.0, style_weight=100.0, tv_weight=3.0, style_scale=1.0, preserve_color="none",
                iterations=100, seed=0, optimizer="lbfgs")


def measures(x: torch.Tensor, content: torch.Tensor, style: torch.Tensor) -> dict:
    c = resize_long(content, max(x.shape[-2:]))
    s = resize_long(style, max(x.shape[-2:]))
    gen = torch.Generator().manual_seed(0)
    dirs = F.normalize(torch.randn(64, 3, generator=gen), dim=1)
    q = torch.linspace(0, 1, 256)
    px, ps = x.flatten(2)[0].T @ dirs.T, s.flatten(2)[0].T @ dirs.T       # (N, 64) projections
    swd = (torch.quantile(px, q, dim=0) - torch.quantile(ps, q, dim=0)).abs().mean()
    lap = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])[None, None]

    def hf(img: torch.Tensor) -> float:
        return round(1000 * float(F.conv2d(rgb_to_ycbcr(img)[:, :1], lap).abs().mean()), 2)

    return {"color_swd": round(float(swd), 4), "ssim_y": round(float(ssim(x, c, luminance=True)[0]), 4),
            "hf": hf(x), "hf_style": hf(s), "hf_content": hf(c)}


def run(taps_cache: dict, net, content, styles, loss, size: int, label: str, **overrides) -> torch.Tensor:
    params = {**DEFAULTS, **overrides}
    key = loss.style_layers + loss.content_layers
    taps = taps_cache.setdefault(key, FeatureTaps(net, key))
    log = StylizeLog()
    t0 = time.perf_counter()
    x = stylize(taps, content.pixels, [s.pixels for s in styles], [1.0 / len(styles)] * len(styles), loss=loss,
                size=size, log=log, **params)
    seconds = time.perf_counter() - t0
    line = {"run": label, "size": size, "seconds": round(seconds, 2), "threads": torch.get_num_threads(),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "style_loss": loss.style,
            "layers": list(loss.style_layers), "temperature": loss.temperature,
            **{k: v for k, v in params.items() if k != "seed"},
            "passes": [{k: round(v, 4) if isinstance(v, float) else v for k, v in p.items()} for p in log.passes],
            **measures(x, content.pixels, styles[0].pixels)}
    print(json.dumps(line), flush=True)
    return x


def sheet(rows: list[tuple[str, list[tuple[str, Image.Image]]]], path: Path, cell_px: int = 256) -> None:
    """A labelled grid: one row per (title, [(caption, image), ...])."""
    pad, head = 4, 16
    ncol = max(len(r[1]) for r in rows)
    imgs = [[im.resize((cell_px, round(im.height * cell_px / im.width)), Image.LANCZOS) for _, im in r[1]]
            for r in rows]
    heights = [max(i.height for i in r) for r in imgs]
    canvas = Image.new("RGB", (ncol * (cell_px + pad) + pad, sum(h + head + pad for h in heights) + pad), "white")
    d = ImageDraw.Draw(canvas)
    y = pad
    for (title, cells), row, h in zip(rows, imgs, heights):
        for j, ((caption, _), im) in enumerate(zip(cells, row)):
            x = pad + j * (cell_px + pad)
            d.text((x + 2, y + 2), f"{title}: {caption}" if j == 0 and title else caption, fill=(0, 0, 0))
            canvas.paste(im, (x, y + head))
        y += h + head + pad
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, quality=90)
    print(json.dumps({"figure": str(path)}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "style")
    ap.add_argument("--styles", default="strokes,mosaic")
    ap.add_argument("--size", type=int, default=256, help="long side of the comparison images")
    ap.add_argument("--sizes", default="256,512,1024", help="sizes timed with the default settings")
    ap.add_argument("--only", default="compare,optimizers,sizes,colors")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    import sys
    sys.path.insert(0, str(ROOT / "bench"))
    from style_images import STYLES

    args.out.mkdir(parents=True, exist_ok=True)
    for name, make in STYLES.items():                      # the style images themselves, 512 px
        if not (args.out / f"style-{name}.png").exists():
            make(512).save(args.out / f"style-{name}.png")
    net = feature_net_handle().module
    cache: dict = {}
    content = read_input(CONTENT, "content")
    only = set(args.only.split(","))
    show_c = to_image(resize_long(content.pixels, args.size))

    if "compare" in only:
        for name in args.styles.split(","):
            style = read_input(args.out / f"style-{name}.png", "style")
            rows = []
            for family in ("residual", "relu6"):
                cells = [("content", show_c), (f"style ({name})", to_image(resize_long(style.pixels, args.size)))]
                for kind, tag in (("gram", "a"), ("softmax-gram", "b"), ("mean-std", "c")):
                    x = run(cache, net, content, [style], loss_config(kind, family), args.size,
                            f"compare/{name}/{family}/{kind}")
                    cells.append((f"({tag}) {kind}", to_image(x)))
                rows.append((family, cells))
            sheet(rows, args.out / f"compare-{name}.jpg")

    style = read_input(args.out / "style-strokes.png", "style")
    loss = PRESETS["gram"]
    if "optimizers" in only:
        for opt, its in [(o, n) for o in ("lbfgs", "adam") for n in (50, 100, 200, 400)]:
            run(cache, net, content, [style], loss, args.size, f"optimizer/{opt}/{its}", optimizer=opt, iterations=its)

    if "sizes" in only:
        for px in [int(v) for v in args.sizes.split(",")]:
            x = run(cache, net, content, [style], loss, px, f"size/{px}")
            img = to_image(x)
            if px <= 1024:
                img.save(args.out / f"default-strokes-{px}.jpg", quality=92)
            else:                                           # a 512 px window at full resolution
                w, h = img.size
                img.crop((w // 2 - 256, h // 3 - 256, w // 2 + 256, h // 3 + 256)).save(
                    args.out / f"default-strokes-{px}-crop.jpg", quality=92)

    if "colors" in only:
        mosaic = read_input(args.out / "style-mosaic.png", "style")
        cells = [("content", show_c), ("style (mosaic)", to_image(resize_long(mosaic.pixels, args.size)))]
        for mode in ("none", "luminance", "histogram"):
            x = run(cache, net, content, [mosaic], loss, args.size, f"color/{mode}", preserve_color=mode)
            cells.append((f"preserve_color={mode}", to_image(x)))
        x = run(cache, net, content, [style, mosaic], loss, args.size, "blend/strokes+mosaic")
        cells.append(("strokes 0.5 + mosaic 0.5", to_image(x)))
        sheet([("", cells)], args.out / "colors.jpg")


if __name__ == "__main__":
    main()
