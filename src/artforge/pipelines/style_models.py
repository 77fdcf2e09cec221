"""Style transfer with trained networks: any style image at run time (`stylize.arbitrary`), or one trained
style applied to pictures of any size (`stylize.fast`).

- arbitrary: the AdaIN network (models/stylenet.py: StyleDecoder) on the frozen feature network. A style
  image is encoded once into per-channel (mean, std) at three levels; several styles blend by averaging
  those with weights, and `alpha` moves from the content's own statistics (0) to the style's (1).
  The shipped starter is `starter:style-arbitrary` (trained here; assets/style/arbitrary/COMMAND.md).
- fast: a `TransformNet` run folder from `artforge train style STYLE.jpg --run RUN`. Pictures whose
  long side exceeds `tile` px are cut into overlapping tiles; the network has no normalization, so a
  tile's output is exact wherever the tile holds the network's whole receptive field, and the tiles are
  blended only there (`apply_tiled`): the result equals one pass up to float rounding, in bounded memory.

Both write a PNG whose recipe names the model (by its weights' SHA-256) and the input files, so
`artforge replay` makes it again.

    >>> pipe = ArbitraryStylePipeline(load_style_model("starter:style-arbitrary"))     # doctest: +SKIP
    >>> out = pipe("photo.jpg", ["painting.jpg"], alpha=0.8)                             # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import torch

from ..errors import RecipeError, RunError, UserError
from ..features import extract
from ..features.efficientnet_lite import fold_batchnorm
from ..features.taps import FeatureTaps
from ..models.stylenet import StyleDecoder, TransformNet, mix_codes, style_code
from .base import ModelHandle, Output, Pipeline, load_model
from .specs import ARBITRARY_STARTER, STYLIZE_ARBITRARY, STYLIZE_FAST, VIDEO_ARBITRARY, VIDEO_FAST
from .color import color_stats, luminance, match_color, mix_color_stats, recolor, with_chroma
from .stylize import (MAX_PIXELS, InputImage, StyleImagesPipeline, _replay_input, read_input,
                      resize_long, to_image)

BLEND_PX = 16            # width of the linear ramp where neighbouring tiles are mixed


def load_style_model(name_or_path: str | Path, device: str | torch.device = "cpu") -> ModelHandle:
    """A style network (run folder or starter); anything else is one clear line."""
    try:
        handle = load_model(name_or_path, device)
    except RunError as e:
        raise RunError(f"{e} (a style model is a run folder from 'artforge train style' or {ARBITRARY_STARTER})") \
            from None
    if handle.config.get("family") != "style":
        raise RunError(f"{name_or_path} is a {handle.config.get('family')} model, not a style model; train one "
                       "with: artforge train style STYLE.jpg --run RUN_DIR")
    return handle


# -- arbitrary style -----------------------------------------------------------------------------------
class AdaINStylizer:
    """Encoder (frozen feature network, BatchNorm folded) + a trained decoder, ready for inference."""

    def __init__(self, decoder: StyleDecoder, device: torch.device):
        self.decoder, self.config = decoder, decoder.config
        net = fold_batchnorm(extract.load_feature_net(device)).to(memory_format=torch.channels_last)
        self.taps = FeatureTaps(net, self.config.taps)
        self.decoder.to(memory_format=torch.channels_last)

    @torch.inference_mode()
    def code(self, style: torch.Tensor) -> list:
        """A style image (1, 3, H, W) in [0, 1] -> its statistics, encoded at the config's style_px."""
        s = resize_long(style, self.config.style_px).to(self.taps.device)
        return style_code(self.taps(s), self.config.taps)

    @torch.inference_mode()
    def __call__(self, content: torch.Tensor, code: list, alpha: float = 1.0) -> torch.Tensor:
        """(1, 3, H, W) in [0, 1] -> the same size, stylized, in [0, 1]."""
        h, w = content.shape[-2:]
        feats = self.taps(content.to(self.taps.device))
        out = self.decoder.stylize([feats[t] for t in self.config.taps], code, alpha)
        if out.shape[-2:] != (h, w):          # sizes not divisible by 8 come back rounded up
            out = out[..., :h, :w]
        return out.clamp(0, 1).float().cpu().contiguous()


class ArbitraryStylePipeline(StyleImagesPipeline):
    """Content image + any style image(s) -> a stylized picture, in one pass of a trained network."""

    spec = STYLIZE_ARBITRARY
    video_spec = VIDEO_ARBITRARY           # the settings of a video: no size, and the temporal blending

    def __init__(self, model: ModelHandle, max_pixels: int = MAX_PIXELS):
        if model.config.get("arch") != "adain-lite0":
            raise UserError(f"{model.path} is not an arbitrary-style model (it was trained for one style); "
                            f"use it as: artforge stylize CONTENT {model.path}")
        super().__init__(model)
        self.max_pixels = max_pixels
        self.stylizer = AdaINStylizer(model.module, model.device)

    def frame_stylizer(self, styles: list[torch.Tensor], weights: list[float], alpha: float = 1.0,
                       preserve_color: str = "none", palette: float = 1.0) -> Callable[[torch.Tensor], torch.Tensor]:
        """A function (1, 3, H, W) -> (1, 3, H, W) with the styles encoded once (for video frames)."""
        code = mix_codes([self.stylizer.code(st) for st in styles], weights)
        target = mix_color_stats([color_stats(st) for st in styles], weights)
        palette = palette * alpha if preserve_color == "none" else 0.0

        def stylize(frame: torch.Tensor) -> torch.Tensor:
            out = self.stylizer(frame, code, alpha)
            if palette > 0:                   # the decoder comes near the style's colours; this finishes it
                out = torch.lerp(out, recolor(out, *target), palette)
            return with_chroma(luminance(out), frame).clamp(0, 1) if preserve_color == "luminance" else out

        return stylize

    def video_stylizer(self, styles: list[InputImage], params: dict) -> Callable[[torch.Tensor], torch.Tensor]:
        """Frames (1, 3, H, W) -> stylized at their own size; histogram colour matching uses the first frame."""
        weights = [s.weight for s in styles]
        pixels = [s.pixels for s in styles]
        state: dict = {}

        def stylize(frame: torch.Tensor) -> torch.Tensor:
            if "fn" not in state:           # styles are encoded once, with the first frame's colours if asked
                sty = [match_color(p, frame) for p in pixels] if params["preserve_color"] == "histogram" else pixels
                state["fn"] = self.frame_stylizer(sty, weights, params["alpha"], params["preserve_color"],
                                                  params["palette"])
            return state["fn"](frame)

        return stylize

    def replay_video_stylizer(self, recipe: dict) -> Callable[[torch.Tensor], torch.Tensor]:
        _, styles, params, _ = self.replay_inputs(recipe, need_content=False, spec=self.video_spec)
        return self.video_stylizer(styles, params)

    def stylize_tensor(self, content: torch.Tensor, styles: list[torch.Tensor], weights: list[float],
                       params: dict) -> torch.Tensor:
        """The whole method on tensors: resize, colour handling, encode, decode."""
        x = resize_long(content, params["size"]) if params["size"] else content
        if params["preserve_color"] == "histogram":
            styles = [match_color(st, x) for st in styles]
        return self.frame_stylizer(styles, weights, params["alpha"], params["preserve_color"], params["palette"])(x)

    def _make(self, c: InputImage, s: list[InputImage], params: dict, weights: list[float]) -> Output:
        _check_size(c, params["size"], self.max_pixels)
        x = self.stylize_tensor(c.pixels, [i.pixels for i in s], weights, params)
        return Output([to_image(x)], [self.recipe("image", dict(params), [c.parent()] + [i.parent() for i in s])])

# -- one trained style -----------------------------------------------------------------------------------
def _ramp(n: int, at_start: bool, at_end: bool, margin: int) -> torch.Tensor:
    """(n,) weights of a tile along one axis: 0 within `margin` of an inner edge, rising linearly over
    BLEND_PX, 1 in the middle; the picture's own edges need no margin."""
    pos = torch.arange(n, dtype=torch.float32)
    w = torch.ones(n)
    if not at_start:
        w = torch.minimum(w, ((pos - margin + 1) / (BLEND_PX + 1)).clamp(0, 1))
    if not at_end:
        w = torch.minimum(w, ((n - pos - margin) / (BLEND_PX + 1)).clamp(0, 1))
    return w


def tile_starts(length: int, tile: int, overlap: int, align: int = 4) -> list[int]:
    """Start positions of tiles of about `tile` px covering `length`, neighbours overlapping by at least
    `overlap`, each a multiple of `align` (the network's total stride, so every tile sees the same
    sampling grid as the whole picture). The last tile runs to the end (up to align - 1 px longer).

    >>> tile_starts(1000, 400, 100)
    [0, 300, 600]
    """
    if length <= tile:
        return [0]
    step = (tile - overlap) // align * align
    last = (length - tile) // align * align
    return sorted(set(range(0, last, step)) | {last})


@torch.inference_mode()
def apply_tiled(net: TransformNet, x: torch.Tensor, tile: int) -> torch.Tensor:
    """net(x) for (1, 3, H, W) computed tile by tile (tiles of `tile` px); equal to one pass within float
    rounding, since every tile's weight is zero wherever its output could differ from the one-pass output."""
    margin = net.receptive_px
    overlap = 2 * margin + BLEND_PX
    if tile < overlap + 8:
        raise UserError(f"tile: {tile} px is too small; tiles must be at least {overlap + 8} px for this network")
    _, _, h, w = x.shape
    out = torch.zeros(1, 3, h, w)
    total = torch.zeros(1, 1, h, w)
    ys, xs = tile_starts(h, tile, overlap), tile_starts(w, tile, overlap)
    for i, y0 in enumerate(ys):
        y1 = h if i == len(ys) - 1 else y0 + tile
        for j, x0 in enumerate(xs):
            x1 = w if j == len(xs) - 1 else x0 + tile
            piece = net(x[..., y0:y1, x0:x1]).float().cpu()
            wy = _ramp(y1 - y0, y0 == 0, y1 == h, margin)
            wx = _ramp(x1 - x0, x0 == 0, x1 == w, margin)
            weight = (wy[:, None] * wx[None, :])[None, None]
            out[..., y0:y1, x0:x1] += piece * weight
            total[..., y0:y1, x0:x1] += weight
    return out / total.clamp_min(1e-8)


class FastStylePipeline(Pipeline):
    """Content image -> the picture in one trained style, at any size (tiled above `tile` px)."""

    spec = STYLIZE_FAST
    video_spec = VIDEO_FAST

    def __init__(self, model: ModelHandle, max_pixels: int = MAX_PIXELS):
        if model.config.get("arch") != "transform-net":
            raise UserError(f"{model.path} is the arbitrary-style model; give a style image too: "
                            f"artforge stylize CONTENT STYLE.jpg --method arbitrary --model {model.path}")
        super().__init__(model)
        self.max_pixels = max_pixels

    def __call__(self, content: str | Path, **kwargs: Any) -> Output:
        return self.run(content, **self.resolve(**kwargs))

    def run(self, content: str | Path, **params: Any) -> Output:
        return self._make(read_input(content, "content", self.max_pixels), params)

    def frame_stylizer(self, tile: int = 1024, preserve_color: str = "none") -> Callable[[torch.Tensor], torch.Tensor]:
        net = self.model.module

        def stylize(frame: torch.Tensor) -> torch.Tensor:
            x = frame.to(self.model.device)
            if max(x.shape[-2:]) > tile:
                out = apply_tiled(net, x, tile)
            else:
                with torch.inference_mode():
                    out = net(x).float().cpu()
            out = out.clamp(0, 1)
            return with_chroma(luminance(out), frame).clamp(0, 1) if preserve_color == "luminance" else out

        return stylize

    def video_stylizer(self, params: dict) -> Callable[[torch.Tensor], torch.Tensor]:
        return self.frame_stylizer(params["tile"], params["preserve_color"])

    def replay_video_stylizer(self, recipe: dict) -> Callable[[torch.Tensor], torch.Tensor]:
        return self.video_stylizer(self.video_spec.replay_params(recipe))

    def _make(self, c: InputImage, params: dict) -> Output:
        _check_size(c, params["size"], self.max_pixels)
        x = resize_long(c.pixels, params["size"]) if params["size"] else c.pixels
        out = self.frame_stylizer(params["tile"], params["preserve_color"])(x)
        return Output([to_image(out)], [self.recipe("image", dict(params), [c.parent()])])

    def replay(self, recipe: dict) -> Output:
        content = [p for p in recipe.get("parents") or [] if p.get("role") == "content"]
        if len(content) != 1:
            raise RecipeError("the recipe names no content image (parents); it cannot be replayed")
        return Output(self._make(_replay_input(content[0], self.max_pixels), self.replay_params(recipe)).images,
                      [recipe])


def _check_size(c: InputImage, size: int, max_pixels: int) -> None:
    h, w = c.pixels.shape[-2:]
    k = size / max(h, w) if size else 1.0
    if h * w * k * k > max_pixels:
        raise UserError(f"size: {size} px would make a picture of {round(h * w * k * k / 1e6)} million pixels, "
                        f"more than the limit of {max_pixels // 1_000_000} million (--max-pixels)")
