"""Stylize a video frame by frame, with the previous output carried along the optical flow (less flicker).

A stylizer for single pictures, run on each frame alone, flickers: small changes between input frames
(noise, compression, lighting) change the strokes it paints. Following Ruder et al. 2016 ("Artistic style
transfer for videos"), but at inference only and with any frame stylizer, each output is blended with
the previous output warped onto the current frame, wherever the flow between the INPUT frames is
reliable (`pipelines/flow.py`):

    s_t   = stylize(I_t)                                            # (1, 3, H, W), the frame alone
    O_t   = s_t                                                     # t = 1, or temporal = 0
    O_t   = (1 - temporal·M_t) ⊙ s_t + temporal·M_t ⊙ W(O_t-1)      # M_t: (1, 1, H, W) in {0, 1}

W warps by flow(I_t, I_t-1); occluded and newly visible pixels (M_t = 0) take the fresh stylization. As
O_t-1 already carries O_t-2, a stroke decays by `temporal` per frame along its motion path.

    >>> import torch
    >>> frames = [torch.rand(1, 3, 48, 64) for _ in range(3)]
    >>> out = stylize_frames(frames, lambda x: 1 - x, temporal=0.6)
    >>> len(out), out[0].size
    (3, (64, 48))
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator, Sequence

import torch
from PIL import Image

from ..io.video import MAX_FRAME_PIXELS, MAX_FRAMES, mp4_path, read_video
from ..io.weights import file_sha256
from ..provenance.recipe import recipe_to_write
from ..provenance.write import save_video
from .flow import flow_and_mask, frame_tensor, warp
from .specs import TEMPORAL, TEMPORAL_PARAM
from .stylize import to_image

FrameStylizer = Callable[[torch.Tensor], torch.Tensor]   # (1, 3, H, W) in [0, 1] -> same shape, in [0, 1]
FlickerScore = Callable[[Sequence, Sequence], float]     # (stylized frames, input frames) -> warping error
OnFrame = Callable[[int, int], None]                     # (frames done, frames in all), after each frame

# `temporal` is a declared setting of each frame stylizer's video spec (specs.VIDEO_ARBITRARY, VIDEO_FAST).


def _run(stylize: FrameStylizer, x: torch.Tensor) -> torch.Tensor:
    """stylize(x) checked and brought back to the CPU: (1, 3, H, W) float32 in [0, 1]."""
    with torch.no_grad():
        y = stylize(x)
    if not torch.is_tensor(y) or y.shape != x.shape:
        got = tuple(y.shape) if torch.is_tensor(y) else type(y).__name__
        raise ValueError(f"the frame stylizer returned {got} for a {tuple(x.shape)} frame; it must keep the shape")
    return y.detach().to("cpu", torch.float32).clamp(0, 1)


def iter_stylized(frames: Sequence, stylize: FrameStylizer,
                  temporal: float = TEMPORAL) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(O_t, s_t) for each frame, both (1, 3, H, W) float32 in [0, 1]: the blended output and the frame alone.

    s_t is exactly what frame-by-frame stylization gives, so one pass yields both videos.
    """
    prev_in = prev_out = None
    for frame in frames:
        x = frame_tensor(frame)                                   # (1, 3, H, W)
        fresh = _run(stylize, x)
        out = fresh
        if temporal > 0 and prev_out is not None:
            back, mask = flow_and_mask(x, prev_in)               # (1, 2, H, W), (1, 1, H, W)
            keep = temporal * mask
            out = (1 - keep) * fresh + keep * warp(prev_out, back)
        prev_in, prev_out = x, out
        yield out, fresh


def stylize_frames(frames: Sequence, stylize: FrameStylizer, *, temporal: float = TEMPORAL,
                   on_frame: OnFrame | None = None) -> list[Image.Image]:
    """Stylized frames as 8-bit RGB pictures; `frames` are PIL pictures or tensors in [0, 1].

    temporal=0 is plain frame-by-frame stylization (no flow is computed).
    """
    temporal = TEMPORAL_PARAM.check(temporal)
    out = []
    for i, (o, _) in enumerate(iter_stylized(frames, stylize, temporal)):
        out.append(to_image(o))
        if on_frame:
            on_frame(i + 1, len(frames))
    return out


@dataclass
class VideoResult:
    """What `stylize_video` wrote and measured."""
    path: Path
    frames: int
    size: tuple[int, int]                   # (W, H) of the frames
    fps: Fraction                           # of the video, as read (and written)
    seconds: float                          # stylizing: the stylizer, the flow and the blending
    processing_fps: float                   # frames stylized per second of `seconds`
    flicker: float | None = None            # warping error of the written frames (with a score)
    flicker_frame_by_frame: float | None = None   # ... of plain frame-by-frame stylization (compare=True)

    def summary(self) -> str:
        """e.g. 'flicker 0.0123 (frame-by-frame 0.0201, -39%) at 7.9 fps'."""
        speed = f"at {self.processing_fps:.1f} fps"
        if self.flicker is None:
            return f"{self.frames} frames {speed}"
        text = f"flicker {self.flicker:.4f}"
        if self.flicker_frame_by_frame is not None:
            base = self.flicker_frame_by_frame
            change = f", {100 * (self.flicker - base) / base:+.0f}%" if base > 0 else ""
            text += f" (frame-by-frame {base:.4f}{change})"
        return f"{text} {speed}"


def stylize_video(video: str | Path, out: str | Path, stylize: FrameStylizer, *, temporal: float = TEMPORAL,
                  recipe: dict | None = None, redact: str = "", score: FlickerScore | None = None,
                  compare: bool = False, on_frame: OnFrame | None = None, max_pixels: int = MAX_FRAME_PIXELS,
                  max_frames: int = MAX_FRAMES) -> VideoResult:
    """Read `video`, stylize every frame, write `out` (MP4, same frame count, size and rate) with its recipe.

    `recipe` is the stylizer's (pipeline, params, model, ...); the video's path, SHA-256, size, frame count
    and rate are added as its content parent and `temporal` to its params, then `redact` applies to it
    (`provenance.recipe.recipe_to_write`: dotted fields, or 'all' for no recipe). `score` (e.g.
    `metrics.flicker.warping_error`, passed in because pipelines never import metrics) measures the result;
    with `compare=True` also plain frame-by-frame stylization, from the same stylizer calls.

    >>> from artforge.metrics.flicker import warping_error                                # doctest: +SKIP
    >>> r = stylize_video("in.mp4", "out.mp4", net, score=warping_error, compare=True)    # doctest: +SKIP
    >>> print(r.summary())                                                                # doctest: +SKIP
    flicker 0.0123 (frame-by-frame 0.0201, -39%) at 7.9 fps
    """
    temporal, out = TEMPORAL_PARAM.check(temporal), mp4_path(out)
    if compare and score is None:
        raise ValueError("compare=True needs a score, e.g. artforge.metrics.flicker.warping_error")
    frames, fps = read_video(video, max_pixels=max_pixels, max_frames=max_frames)
    t0 = time.perf_counter()
    outs, alone = [], []
    for i, (o, s) in enumerate(iter_stylized(frames, stylize, temporal)):
        outs.append(to_image(o))
        if compare and temporal > 0:
            alone.append(to_image(s))
        if on_frame:
            on_frame(i + 1, len(frames))
    seconds = time.perf_counter() - t0
    if recipe is not None:
        recipe = recipe_to_write(_video_recipe(recipe, Path(video), frames, fps, temporal), redact)
    path = save_video(outs, out, recipe, fps)
    flicker = score(outs, frames) if score is not None else None
    by_frame = (score(alone, frames) if temporal > 0 else flicker) if compare else None
    return VideoResult(path, len(frames), frames[0].size, fps, seconds, len(frames) / max(seconds, 1e-9),
                       flicker, by_frame)


def _video_recipe(recipe: dict, video: Path, frames: list[Image.Image], fps: Fraction, temporal: float) -> dict:
    w, h = frames[0].size
    parent = {"role": "content", "kind": "video", "path": str(video.expanduser().resolve()),
              "sha256": file_sha256(video.expanduser()), "width": w, "height": h, "frames": len(frames),
              "fps": str(fps)}
    return recipe | {"output": "video", "params": dict(recipe.get("params", {})) | {"temporal": temporal},
                     "parents": [parent] + list(recipe.get("parents", []))}
