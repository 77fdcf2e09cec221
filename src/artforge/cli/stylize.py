"""`artforge stylize CONTENT STYLE [STYLE ...] --method optimize --out OUT.png`: paint a picture in a style.

The PNG carries its recipe (the input files' paths and SHA-256, every setting, the feature network's
hash), so `artforge replay OUT.png --out AGAIN.png` makes it again, bit for bit on the same CPU.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import UserError
from ..pipelines.stylize import MAX_PIXELS, StylizePipeline, feature_net_handle, iterations_at, scales, vgg19_handle
from ..provenance.write import save_image
from .params import add_pipeline_options, pipeline_kwargs

METHODS = ("optimize",)   # the trained (fast) and arbitrary-style methods of issue 7 come next


def register(sub, parents) -> None:
    p = sub.add_parser("stylize", parents=parents, help="paint a picture in the manner of style images",
                       description="Style transfer. --method optimize (the default) works with any style image: "
                                   "the picture's pixels are optimized, coarse to fine, on EfficientNet-Lite0 "
                                   "features. Several style images blend with --style-weights.")
    p.add_argument("content", metavar="CONTENT", help="the picture to repaint (PNG, JPEG, WebP, BMP, TIFF, GIF)")
    p.add_argument("styles", nargs="+", metavar="STYLE", help="one or more style images")
    p.add_argument("--method", default="optimize", choices=METHODS, help="how to stylize (default: optimize)")
    add_pipeline_options(p, StylizePipeline)
    p.add_argument("--out", required=True, metavar="OUT.png", help="the PNG to write (with its recipe inside)")
    p.add_argument("--max-pixels", type=int, default=MAX_PIXELS, metavar="N",
                   help="refuse input images with more pixels (default: %(default)s)")
    p.add_argument("--redact", default="", metavar="FIELDS",
                   help="recipe fields to leave out, comma-separated (e.g. parents); 'all' strips it")
    p.add_argument("--vgg19", default=None, metavar="FILE",
                   help="measure in your own VGG19 weights (torchvision layout, .pth or .safetensors) instead of "
                        "EfficientNet-Lite0; replay then needs --model FILE")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps (default: cpu)")
    p.add_argument("--json", action="store_true", help="print what was written as one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise UserError(f"--out {out}: give a .png file name (the recipe travels inside the PNG)")
    if out.is_dir():
        raise UserError(f"--out {out} is a folder; give a .png file name")
    if args.max_pixels <= 0:
        raise UserError(f"--max-pixels must be positive, got {args.max_pixels}")
    kwargs = StylizePipeline.resolve(**pipeline_kwargs(args, StylizePipeline))
    total = sum(iterations_at(kwargs["iterations"], k) for k in range(len(scales(kwargs["size"]))))
    bars: list = []

    def step(parts: dict) -> None:       # the bar appears once the inputs have been read and checked
        if not bars:
            from tqdm import tqdm
            bars.append(tqdm(total=total, unit="it", desc="stylize", leave=False))
        bars[0].update(1)
        bars[0].set_postfix(loss=f"{parts['total']:.3g}", refresh=False)

    handle = vgg19_handle(args.vgg19, args.device) if args.vgg19 else feature_net_handle(args.device)
    pipe = StylizePipeline(handle, max_pixels=args.max_pixels,
                           on_step=None if args.quiet else step)
    try:
        result = pipe(args.content, args.styles, **kwargs)
    finally:
        for bar in bars:
            bar.close()
    keep = args.redact.strip() != "all"
    save_image(result.images[0], out, result.recipes[0] if keep else None, "" if not keep else args.redact)
    seconds = round(sum(p["seconds"] for p in pipe.log.passes), 2)
    if args.json:
        print(json.dumps({"image": str(out), "size": list(result.images[0].size), "seconds": seconds,
                          "passes": [{"px": p["px"], "iterations": p["iterations"]} for p in pipe.log.passes]}))
    elif not args.quiet:
        w, h = result.images[0].size
        print(f"wrote {out} ({w}×{h}, {seconds:.1f} s)")
    return 0
