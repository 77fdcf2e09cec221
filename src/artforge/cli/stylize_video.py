"""`artforge stylize VIDEO.mp4 STYLE_OR_RUN --out OUT.mp4`: a video in a style, with temporal consistency.

Frames are stylized at their own size by the arbitrary-style network (with style images) or a trained
style (with a run folder); each output frame is blended with the previous one warped by optical flow
where the flow is reliable (`--temporal`). The flicker score (warping error between consecutive
stylized frames, metrics/flicker.py) is printed beside the processing speed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import UserError
from ..metrics.flicker import warping_error
from ..pipelines.style_models import ArbitraryStylePipeline, FastStylePipeline, load_style_model
from ..pipelines.video import stylize_video
from .params import show_progress


def run_video(args, method: str, kwargs: dict, out: Path) -> int:
    """`kwargs`: the method's video settings, checked (specs.VIDEO_ARBITRARY / VIDEO_FAST), `temporal` among them."""
    if out.suffix.lower() != ".mp4":
        raise UserError(f"--out {out}: a stylized video is written as .mp4")
    if method == "arbitrary":
        pipe = ArbitraryStylePipeline(load_style_model(args.model, args.device), max_pixels=args.max_pixels)
        styles = pipe.read_styles(args.styles, kwargs["style_weights"])
        stylize = pipe.video_stylizer(styles, kwargs)
        recipe = pipe.recipe("video", {k: v for k, v in kwargs.items() if k != "temporal"},
                             [s.parent() for s in styles])
    else:
        pipe = FastStylePipeline(load_style_model(args.styles[0], args.device), max_pixels=args.max_pixels)
        stylize = pipe.video_stylizer(kwargs)
        recipe = pipe.recipe("video", {k: v for k, v in kwargs.items() if k != "temporal"}, [])
    bars: list = []

    def progress(done: int, total: int) -> None:
        if not show_progress(args):
            return
        if not bars:
            from tqdm import tqdm
            bars.append(tqdm(total=total, unit="frame", desc="stylize", leave=False))
        bars[0].update(1)

    try:
        result = stylize_video(args.content, out, stylize, temporal=kwargs["temporal"], recipe=recipe,
                               redact=args.redact, score=warping_error,
                               compare=args.compare, on_frame=progress, max_pixels=args.max_pixels)
    finally:
        for bar in bars:
            bar.close()
    if args.json:
        print(json.dumps({"video": str(out), "frames": result.frames, "size": list(result.size),
                          "fps": float(result.fps), "method": method, "seconds": round(result.seconds, 3),
                          "processing_fps": round(result.processing_fps, 3), "flicker": result.flicker,
                          "flicker_frame_by_frame": result.flicker_frame_by_frame}))
    else:                                        # the result, printed with --quiet too
        w, h = result.size
        print(f"wrote {out} ({result.frames} frames, {w}×{h}, {float(result.fps):g} fps, {method}); "
              f"{result.summary()}", file=sys.stdout)
    return 0
