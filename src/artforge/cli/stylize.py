"""`artforge stylize CONTENT STYLE_OR_RUN [STYLE ...] --out OUT`: paint a picture or a video in a style.

    artforge stylize photo.jpg painting.jpg --out a.png                      # optimize (best, slowest)
    artforge stylize photo.jpg painting.jpg --method arbitrary --out b.png   # trained AdaIN network (fast)
    artforge stylize photo.jpg runs/my-style --out c.png                     # a style you trained
    artforge stylize clip.mp4 painting.jpg --out d.mp4                       # video (arbitrary, temporal blending)

The output carries its recipe (the input files' paths and SHA-256, every setting, the model's hash), so
`artforge replay OUT --out AGAIN` makes it again.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..errors import UserError
from ..pipelines import specs as S
from ..provenance.recipe import recipe_to_write
from .params import DEVICE_HELP, add_pipeline_options, out_target, pipeline_kwargs, show_progress

METHODS = ("auto", "optimize", "arbitrary", "fast")
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi")
# Each method's declaration for a picture, and for a video (frames at their own size, `temporal` blending).
SPECS = {"optimize": S.STYLIZE_OPTIMIZE, "arbitrary": S.STYLIZE_ARBITRARY, "fast": S.STYLIZE_FAST}
VIDEO_SPECS = {"arbitrary": S.VIDEO_ARBITRARY, "fast": S.VIDEO_FAST}


def register(sub, parents) -> None:
    p = sub.add_parser(
        "stylize", parents=parents, help="paint a picture or a video in the manner of style images",
        description="Style transfer. --method optimize (the default for pictures) works with any style image: the "
                    "picture's pixels are optimized on EfficientNet-Lite0 features (tens of seconds). --method "
                    "arbitrary uses the trained AdaIN network with any style image (a fraction of a second; the "
                    "default for videos). A run folder from 'artforge train style' in place of the style image "
                    "applies that trained style (--method fast, chosen by itself). Several style images blend "
                    "with --style-weights.")
    p.add_argument("content", metavar=S.CONTENT.metavar, help=S.CONTENT.help)
    p.add_argument("styles", nargs="+", metavar="STYLE_OR_RUN",
                   help=f"{S.STYLES.help}, or one style run folder ({S.FAST_MODEL.help})")
    p.add_argument("--method", default="auto", choices=METHODS,
                   help="auto (default): fast for a run folder, arbitrary for a video, optimize for a picture")
    add_pipeline_options(p, list(SPECS.items()) + list(VIDEO_SPECS.items()))   # each method keeps its defaults
    p.add_argument("--model", default=S.ARBITRARY_STARTER, metavar=S.ARBITRARY_MODEL.metavar,
                   help=f"arbitrary: {S.ARBITRARY_MODEL.help} (default: %(default)s, shipped)")
    p.add_argument("--compare", action="store_true",
                   help="video: also stylize frame by frame and print both flicker scores")
    p.add_argument("--out", required=True, metavar="OUT.png|OUT.mp4|DIR",
                   help="the PNG (or MP4 for a video) to write, with its recipe; a folder gets CONTENT-stylized.png")
    p.add_argument("--max-pixels", type=int, default=S.MAX_PIXELS, metavar="N",
                   help="refuse input images (or video frames) with more pixels (default: %(default)s)")
    p.add_argument("--redact", default="", metavar="FIELDS",
                   help="recipe fields to leave out, comma-separated (e.g. parents); 'all' strips it")
    p.add_argument("--vgg19", default=None, metavar="FILE",
                   help="optimize: measure in your own VGG19 weights (torchvision layout, .pth or .safetensors) "
                        "instead of EfficientNet-Lite0; replay then needs --model FILE")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--json", action="store_true", help="print what was written as one JSON object")
    p.set_defaults(func=run)


def is_style_run(path: str | Path) -> bool:
    from ..io.weights import CONFIG_NAME

    return Path(path).is_dir() and (Path(path) / CONFIG_NAME).is_file()


def choose_method(args) -> str:
    video = Path(args.content).suffix.lower() in VIDEO_SUFFIXES
    run_dir = len(args.styles) == 1 and is_style_run(args.styles[0])
    method = args.method
    if method == "auto":
        method = "fast" if run_dir else "arbitrary" if video else "optimize"
    if method == "fast" and not run_dir:
        raise UserError(f"--method fast needs a style run folder in place of the style image (from: artforge train "
                        f"style STYLE.jpg --run RUN_DIR); {args.styles[0]} is not one")
    if method != "fast" and run_dir:
        raise UserError(f"{args.styles[0]} is a run folder; --method {method} needs style images")
    if video and method == "optimize":
        raise UserError("--method optimize is for pictures (minutes per frame); stylize a video with --method "
                        "arbitrary (the default) or a trained style run folder")
    return method


def stylize_out(args) -> Path:
    """--out as given (OUT.png, OUT.mp4 for a video), or in a folder: CONTENT-stylized.png (or .mp4)."""
    video = Path(args.content).suffix.lower() in VIDEO_SUFFIXES
    suffix = ".mp4" if video else ".png"
    what = ("an .mp4 file name (a stylized video is written as .mp4)" if video else
            "a .png file name (the recipe travels inside the PNG)")
    out, to_file = out_target(args.out, (suffix,), what)
    return out if to_file else out / f"{Path(args.content).stem}-stylized{suffix}"


def given_settings(args, method: str, video: bool) -> dict:
    """The settings typed on the command line for `method` on a picture or a video; one typed for another
    method (or the other kind of input) is a UserError naming it."""
    spec = (VIDEO_SPECS if video else SPECS)[method]
    given = pipeline_kwargs(args, spec)
    every = {p.name for q in list(SPECS.values()) + list(VIDEO_SPECS.values()) for p in q.params}
    other = sorted(name for name in vars(args) if name in every and name not in given)
    if video and "size" in other:
        raise UserError("--size does not apply to videos: frames are stylized at their own size "
                        "(scale the video first to change it)")
    if not video and "temporal" in other and method in VIDEO_SPECS:
        raise UserError("--temporal is for videos (the blending of each frame with the previous one); "
                        "a picture has no previous frame")
    if other:
        raise UserError(f"--{other[0].replace('_', '-')} does not apply to --method {method}")
    return spec.resolve(**given)


def run(args) -> int:
    from ..pipelines.style_models import ArbitraryStylePipeline, FastStylePipeline, load_style_model
    from ..provenance.write import save_image

    out = stylize_out(args)
    if args.max_pixels <= 0:
        raise UserError(f"--max-pixels must be positive, got {args.max_pixels}")
    method = choose_method(args)
    video = Path(args.content).suffix.lower() in VIDEO_SUFFIXES
    kwargs = given_settings(args, method, video)
    if args.vgg19 and method != "optimize":
        raise UserError(f"--vgg19 is for --method optimize; --method {method} uses its trained network")
    if video:
        from .stylize_video import run_video
        return run_video(args, method, kwargs, out)
    t0 = time.perf_counter()
    bars: list = []
    if method == "optimize":
        pipe = _optimize_pipe(args, kwargs, bars)
        try:
            result = pipe(args.content, args.styles, **kwargs)
        finally:
            for bar in bars:
                bar.close()
    elif method == "arbitrary":
        pipe = ArbitraryStylePipeline(load_style_model(args.model, args.device), max_pixels=args.max_pixels)
        result = pipe(args.content, args.styles, **kwargs)
    else:
        pipe = FastStylePipeline(load_style_model(args.styles[0], args.device), max_pixels=args.max_pixels)
        result = pipe(args.content, **kwargs)
    seconds = time.perf_counter() - t0
    save_image(result.images[0], out, recipe_to_write(result.recipes[0], args.redact))
    w, h = result.images[0].size
    if args.json:
        body = {"image": str(out), "size": [w, h], "method": method, "seconds": round(seconds, 3)}
        if method == "optimize":
            body["passes"] = [{"px": q["px"], "iterations": q["iterations"]} for q in pipe.log.passes]
        print(json.dumps(body))
    else:                                        # the result, printed with --quiet too
        print(f"wrote {out} ({w}×{h}, {method}, {seconds:.1f} s)")
    return 0


def _optimize_pipe(args, kwargs: dict, bars: list):
    from ..pipelines.stylize import StylizePipeline, feature_net_handle, iterations_at, scales, vgg19_handle

    total = sum(iterations_at(kwargs["iterations"], k) for k in range(len(scales(kwargs["size"]))))

    def step(parts: dict) -> None:       # the bar appears once the inputs have been read and checked
        if not bars:
            from tqdm import tqdm
            bars.append(tqdm(total=total, unit="it", desc="stylize", leave=False))
        bars[0].update(1)
        bars[0].set_postfix(loss=f"{parts['total']:.3g}", refresh=False)

    handle = vgg19_handle(args.vgg19, args.device) if args.vgg19 else feature_net_handle(args.device)
    return StylizePipeline(handle, max_pixels=args.max_pixels, on_step=step if show_progress(args) else None)
