"""Style transfer by optimization (Gatys et al. 2016) on EfficientNet-Lite0 features, or on a VGG19 the user
brings (`vgg19_handle(FILE)`: Gatys et al.'s own network and layers, see features/vgg.py).

The picture itself is optimized: starting from the content image, its pixels move to lower
content_weight·L_content + style_weight·L_style + tv_weight·L_tv, measured in the feature network (see
losses/style.py). Coarse to fine: the image is first optimized with its long side at COARSE_PX, then
upsampled and refined at twice the size, and so on up to `size`, so a 2048 px picture costs only a few
iterations at full size (the coarse scales settle the composition, the fine ones the brushwork).

There is no trained model: the "model" in the recipe is the feature network, named by its weights'
SHA-256; the input images are the recipe's parents, each with its path and SHA-256, so `artforge replay`
finds them again and refuses files that changed.

    >>> pipe = StylizePipeline(feature_net_handle())                                     # doctest: +SKIP
    >>> out = pipe("photo.jpg", ["painting.jpg"], size=512, iterations=200, seed=0)      # doctest: +SKIP
    >>> out.images[0].size                                                               # doctest: +SKIP
    (512, 384)
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..data.images import BadImage, decode_image
from ..errors import RecipeError, UserError, not_a_file
from ..features import extract, vgg
from ..features.taps import FeatureTaps
from ..io.weights import file_sha256
from ..losses.style import (STYLE_LOSSES, blend_statistics, content_loss, statistics_loss, statistics_scale,
                            style_statistics, tv_loss)
from .base import ModelHandle, Output, Pipeline, Spec, pick_device
from .specs import MAX_PIXELS, STYLIZE_OPTIMIZE
from .color import luminance, match_color, match_luminance, with_chroma

COARSE_PX = 256          # the first scale's long side (smaller outputs run at their own size)
MIN_STYLE_PX = 64        # a style image's shorter side must be at least this (see read_input)
ADAM_LR = 0.02           # in [0, 1] pixel units per step
NOISE = 0.02             # std of the seeded noise added to the content image to start from


class StylizeError(UserError):
    """An input image cannot be used for style transfer."""


@dataclass(frozen=True)
class LossConfig:
    """Which taps of the feature network carry style and content, and how style is summarised."""
    style: str                                  # one of STYLE_LOSSES
    style_layers: tuple[str, ...]
    layer_weights: tuple[float, ...]
    content_layers: tuple[str, ...] = ("blocks.5",)
    temperature: float = 4.0                    # of the softmax transformation (softmax-gram only)


# Two families of taps at strides 4, 16 and 16 (bench/style_compare.py, docs/style.md):
# "relu6": inside the blocks, after the expansion's ReLU6: bounded to [0, 6], so no single peak dominates;
# "residual": the blocks' outputs, the linear bottleneck + skip, signed and peaky (about ±60), the
# analogue of the ResNet block outputs that Wang et al. found to stylize badly.
TAPS = {"relu6": ("blocks.3.expand", "blocks.5.expand", "blocks.8.expand"),
        "residual": ("blocks.3", "blocks.5", "blocks.8")}
TEMPERATURE = {"relu6": 4.0, "residual": 8.0}    # about the activations' spread in each family


def loss_config(style: str, taps: str = "relu6") -> LossConfig:
    layers = TAPS[taps]
    return LossConfig(style, layers, (1.0,) * len(layers), temperature=TEMPERATURE[taps])


PRESETS: dict[str, LossConfig] = {kind: loss_config(kind) for kind in STYLE_LOSSES}
# with a user's VGG19 (--vgg19 FILE): Gatys et al.'s layers, relu1_1 ... relu5_1 for style, relu4_2 for content
VGG_PRESETS: dict[str, LossConfig] = {kind: LossConfig(kind, vgg.STYLE_LAYERS, (1.0,) * len(vgg.STYLE_LAYERS),
                                                       vgg.CONTENT_LAYERS) for kind in STYLE_LOSSES}


@dataclass
class InputImage:
    """A decoded input file with what a recipe needs to find it again."""
    role: str                                   # content | style
    path: Path
    sha256: str
    pixels: torch.Tensor                        # (1, 3, H, W) float in [0, 1]
    weight: float = 1.0

    def parent(self) -> dict:
        h, w = self.pixels.shape[-2:]
        d = {"role": self.role, "path": str(self.path), "sha256": self.sha256, "width": int(w), "height": int(h)}
        return d | ({"weight": self.weight} if self.role == "style" else {})


def read_input(path: str | Path, role: str, max_pixels: int = MAX_PIXELS, weight: float = 1.0) -> InputImage:
    """Decode an input image safely (pixel limit from the header, truncation caught); StylizeError names it."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise StylizeError(not_a_file(p, f"{role} image not found", f"the {role} image's file"))
    try:
        img, _ = decode_image(p, max_pixels)
    except BadImage as e:
        raise StylizeError(f"{role} image {p}: {e}") from None
    if role == "style" and min(img.size) < MIN_STYLE_PX:
        raise StylizeError(f"style image {p} is {img.width}×{img.height} px; give one at least {MIN_STYLE_PX} px "
                           "on its shorter side (smaller ones hold too few brush strokes for the network's "
                           "deeper layers to see)")
    x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)[None].contiguous()
    return InputImage(role, p.resolve(), file_sha256(p), x, weight)


def feature_net_handle(device: str | torch.device = "cpu", path: str | Path | None = None,
                       sha256: str | None = None) -> ModelHandle:
    """The feature network as the pipeline's "model": the packaged weights (their SHA-256 is checked on
    load), or a user's file in the same layout (hashed here; `sha256` makes it a required value)."""
    weights = Path(path) if path is not None else extract.weights_path()
    want = sha256 if path is not None else extract.SHA256
    device = pick_device(device)
    net = extract.load_feature_net(device, weights, sha256=want)
    digest = want or file_sha256(weights)
    config = {"arch": "efficientnet-lite0", "family": "features", "model": asdict(net.config)}
    return ModelHandle(net, config, digest, weights, "efficientnet-lite0", torch.device(device))


def vgg19_handle(path: str | Path, device: str | torch.device = "cpu", sha256: str | None = None) -> ModelHandle:
    """A user's VGG19 weights file as the pipeline's "model", named by its SHA-256 (`sha256`, when given,
    is the hash already checked)."""
    path = Path(path).expanduser()
    device = pick_device(device)
    net = vgg.load_vgg19(path, device)
    config = {"arch": vgg.ARCH, "family": "features", "model": {"widths": net.widths}}
    return ModelHandle(net, config, sha256 or file_sha256(path), path, path.name, torch.device(device))


def parse_style_weights(text: str | list, count: int) -> list[float]:
    """'0.7,0.3' -> [0.7, 0.3] normalised to sum 1; empty -> equal weights.

    >>> parse_style_weights("3,1", 2)
    [0.75, 0.25]
    """
    if isinstance(text, str):
        items = [s.strip() for s in text.split(",") if s.strip()]
        try:
            values = [float(s) for s in items]
        except ValueError:
            raise UserError(f"style_weights: expected numbers separated by commas, got '{text}'") from None
    else:
        values = [float(v) for v in text]
    if not values:
        return [1.0 / count] * count
    if len(values) != count:
        raise UserError(f"style_weights: {len(values)} weight(s) for {count} style image(s); give one per style")
    if any(not math.isfinite(v) or v < 0 for v in values) or sum(values) <= 0:
        raise UserError(f"style_weights: weights must be >= 0 with a positive sum, got {values}")
    return [v / sum(values) for v in values]


def resize_long(x: torch.Tensor, long_px: int) -> torch.Tensor:
    """(B, C, H, W) resized (bicubic, antialiased when shrinking) so that max(H, W) == long_px."""
    h, w = x.shape[-2:]
    k = long_px / max(h, w)
    size = (max(1, round(h * k)), max(1, round(w * k)))
    if size == (h, w):
        return x
    return F.interpolate(x, size=size, mode="bicubic", antialias=k < 1, align_corners=False).clamp(0, 1)


def scales(size: int, coarse_px: int = COARSE_PX) -> list[int]:
    """Long sides of the coarse-to-fine passes: size halved until it would drop below coarse_px.

    >>> scales(2048), scales(600), scales(200)
    ([256, 512, 1024, 2048], [300, 600], [200])
    """
    out = [size]
    while out[0] // 2 >= coarse_px:
        out.insert(0, out[0] // 2)
    return out


def iterations_at(iterations: int, k: int) -> int:
    """Iterations of pass k (0 = coarsest): halved at each finer scale, at least 10 (each costs 4x more)."""
    return iterations if k == 0 else max(10, iterations >> k)


class Objective:
    """The loss of an image at one scale; targets (content features, blended style statistics) fixed."""

    def __init__(self, taps: FeatureTaps, loss: LossConfig, content: torch.Tensor, styles: list[torch.Tensor],
                 weights: list[float], content_weight: float, style_weight: float, tv_weight: float):
        self.taps, self.loss = taps, loss
        self.cw, self.sw, self.tvw = content_weight, style_weight, tv_weight
        with torch.no_grad():
            feats = taps(content)
            self.content = {k: feats[k].detach() for k in loss.content_layers}
            per_style = [taps(s) for s in styles]
            self.style = {}
            for layer in loss.style_layers:
                stats = [style_statistics(f[layer], loss.style, loss.temperature) for f in per_style]
                self.style[layer] = tuple(t.detach() for t in blend_statistics(stats, weights))
        self.content_scale = {k: float(v.pow(2).mean()) + 1e-8 for k, v in self.content.items()}
        flat = {k: style_statistics(torch.zeros_like(per_style[0][k]), loss.style, loss.temperature)
                for k in loss.style_layers}
        self.style_scale = {k: statistics_scale(v, flat[k]) for k, v in self.style.items()}

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        feats = self.taps(x)
        lc = sum(content_loss(feats[k], t) / self.content_scale[k] for k, t in self.content.items())
        ls = sum(w * statistics_loss(style_statistics(feats[k], self.loss.style, self.loss.temperature),
                                     self.style[k]) / self.style_scale[k]
                 for k, w in zip(self.loss.style_layers, self.loss.layer_weights))
        ltv = tv_loss(x)
        total = self.cw * lc + self.sw * ls + self.tvw * ltv
        return total, {k: float(v.detach()) if torch.is_tensor(v) else float(v)
                       for k, v in (("content", lc), ("style", ls), ("tv", ltv), ("total", total))}


def optimize(x: torch.Tensor, objective: Objective, iterations: int, method: str,
             on_step: Callable[[dict], None] | None = None) -> torch.Tensor:
    """Lower `objective` from `x` for `iterations` steps; returns the image clamped to [0, 1]."""
    x = x.detach().clone().requires_grad_(True)
    if method == "adam":
        opt = torch.optim.Adam([x], lr=ADAM_LR)
        for _ in range(iterations):
            opt.zero_grad(set_to_none=True)
            loss, parts = objective(x)
            loss.backward()
            opt.step()
            with torch.no_grad():
                x.clamp_(0, 1)
            if on_step:
                on_step(parts)
    elif method == "lbfgs":
        opt = torch.optim.LBFGS([x], lr=1.0, max_iter=iterations, max_eval=iterations, history_size=20,
                                tolerance_grad=0.0, tolerance_change=0.0, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            opt.zero_grad(set_to_none=True)
            loss, parts = objective(x)
            loss.backward()
            if on_step:
                on_step(parts)
            return loss

        opt.step(closure)
    else:
        raise ValueError(f"unknown optimizer {method!r}")
    return x.detach().clamp(0, 1)


@dataclass
class StylizeLog:
    """What happened, per pass: size, iterations (function evaluations), seconds, the loss parts."""
    passes: list[dict] = field(default_factory=list)


def stylize(taps: FeatureTaps, content: torch.Tensor, styles: list[torch.Tensor], weights: list[float], *,
            loss: LossConfig, content_weight: float, style_weight: float, tv_weight: float, style_scale: float,
            preserve_color: str, size: int, iterations: int, seed: int, optimizer: str,
            on_step: Callable[[dict], None] | None = None, log: StylizeLog | None = None,
            coarse_px: int = COARSE_PX) -> torch.Tensor:
    """(1, 3, h, w) in [0, 1] with max(h, w) == size: `content` in the blended manner of `styles`."""
    gen, dev = torch.Generator().manual_seed(seed), taps.device
    if preserve_color == "luminance":
        content_y = luminance(content)
        styles = [match_luminance(luminance(s), content_y) for s in styles]
        work = content_y
    elif preserve_color == "histogram":
        styles = [match_color(s, content) for s in styles]
        work = content
    else:
        work = content
    x = None
    for k, px in enumerate(scales(size, coarse_px)):
        c = resize_long(work, px).to(dev)
        s = [resize_long(st, max(round(px * style_scale), _min_long(st))).to(dev) for st in styles]
        obj = Objective(taps, loss, c, s, weights, content_weight, style_weight, tv_weight)
        if x is None:            # start from the content with a little seeded noise, which breaks symmetry
            x = (c + NOISE * torch.randn(c.shape, generator=gen).to(dev)).clamp(0, 1)
        else:
            x = F.interpolate(x, size=c.shape[-2:], mode="bicubic", align_corners=False).clamp(0, 1)
        t0, n = time.perf_counter(), iterations_at(iterations, k)
        last: dict = {}

        def step(parts: dict) -> None:
            last.update(parts)
            if on_step:
                on_step(parts)

        x = optimize(x, obj, n, optimizer, step)
        if log is not None:
            log.passes.append({"px": px, "iterations": n, "seconds": time.perf_counter() - t0, **last})
    x = x.cpu()
    if preserve_color == "luminance":
        x = with_chroma(luminance(x), resize_long(content, size)).clamp(0, 1)
    return x


def _min_long(style: torch.Tensor) -> int:
    """The long side at which the style's shorter side is MIN_STYLE_PX."""
    h, w = style.shape[-2:]
    return math.ceil(MIN_STYLE_PX * max(h, w) / min(h, w))


def to_image(x: torch.Tensor) -> Image.Image:
    """(1, 3, H, W) in [0, 1] -> an RGB picture, rounding to the nearest level."""
    arr = (x[0].detach().float().clamp(0, 1).permute(1, 2, 0).numpy() * 255.0).round().astype(np.uint8)
    return Image.fromarray(arr)


class StyleImagesPipeline(Pipeline):
    """What the pipelines taking a content image and style image files share: reading and checking the
    files, the blend weights, and finding the same files again from a recipe. Subclasses give `_make`."""

    max_pixels: int = MAX_PIXELS

    def __call__(self, content: str | Path, styles: list[str | Path] | str | Path, **kwargs: Any) -> Output:
        """Inputs are files (recorded as the recipe's parents); `kwargs` are the declared params."""
        if isinstance(kwargs.get("style_weights"), (list, tuple)):
            kwargs["style_weights"] = ",".join(repr(float(w)) for w in kwargs["style_weights"])
        return self.run(content, styles, **self.resolve(**kwargs))

    def run(self, content: str | Path, styles, **params: Any) -> Output:
        s = self.read_styles(styles, params["style_weights"])
        c = read_input(content, "content", self.max_pixels)
        return self._make(c, s, params, [i.weight for i in s])

    def read_styles(self, styles, style_weights: str) -> list[InputImage]:
        """The style image files read and checked, each with its normalised blend weight."""
        styles = [styles] if isinstance(styles, (str, Path)) else list(styles)
        if not styles:
            raise UserError("give at least one style image")
        weights = parse_style_weights(style_weights, len(styles))
        return [read_input(p, "style", self.max_pixels, w) for p, w in zip(styles, weights)]

    def _make(self, c: InputImage, s: list[InputImage], params: dict, weights: list[float]) -> Output:
        raise NotImplementedError

    def replay_inputs(self, recipe: dict, need_content: bool = True, spec: Spec | None = None) -> tuple:
        """(content or None, styles, params, weights) from a recipe; the files must be unchanged. `spec`:
        the declaration the recipe's settings follow (a video's), if not this pipeline's."""
        parents = recipe.get("parents") or []
        content = [p for p in parents if p.get("role") == "content" and p.get("kind") != "video"]
        styles = [p for p in parents if p.get("role") == "style"]
        if (need_content and len(content) != 1) or not styles:
            raise RecipeError("the recipe names no content and style images (parents); it cannot be replayed")
        params = (spec or self.spec).replay_params(recipe)
        weights = parse_style_weights(params["style_weights"], len(styles))
        c = _replay_input(content[0], self.max_pixels) if need_content else None
        return c, [_replay_input(p, self.max_pixels, w) for p, w in zip(styles, weights)], params, weights

    def replay(self, recipe: dict) -> Output:
        c, s, params, weights = self.replay_inputs(recipe)
        return Output(self._make(c, s, params, weights).images, [recipe])


class StylizePipeline(StyleImagesPipeline):
    """Content image + style image(s) -> one stylized picture, by optimizing its pixels."""

    spec = STYLIZE_OPTIMIZE

    def __init__(self, model: ModelHandle, max_pixels: int = MAX_PIXELS,
                 on_step: Callable[[dict], None] | None = None):
        if model.config.get("family") != "features":
            raise UserError(f"{model.path} is not the feature network; stylize.optimize needs no trained model")
        super().__init__(model)
        self.max_pixels, self.on_step = max_pixels, on_step
        self.log = StylizeLog()

    def _make(self, c: InputImage, s: list[InputImage], params: dict, weights: list[float]) -> Output:
        is_vgg = self.model.config["arch"] == vgg.ARCH
        loss = (VGG_PRESETS if is_vgg else PRESETS)[params["style_loss"]]
        taps = (vgg.VGGTaps if is_vgg else FeatureTaps)(self.model.module, loss.style_layers + loss.content_layers)
        self.log = StylizeLog()
        x = stylize(taps, c.pixels, [i.pixels for i in s], weights, loss=loss, content_weight=params["content_weight"],
                    style_weight=params["style_weight"], tv_weight=params["tv_weight"],
                    style_scale=params["style_scale"], preserve_color=params["preserve_color"], size=params["size"],
                    iterations=params["iterations"], seed=params["seed"], optimizer=params["optimizer"],
                    on_step=self.on_step, log=self.log)
        # style_weights is recorded as given, so a replay normalises exactly the same numbers
        return Output([to_image(x)], [self.recipe("image", dict(params), [c.parent()] + [i.parent() for i in s])])

    @classmethod
    def replay_model(cls, recipe: dict, explicit: str | None = None, device: str = "cpu") -> ModelHandle:
        """The feature network the recipe names by hash: the packaged one, or the file given with --model
        (a user's VGG19 file is never found on its own: it must be given)."""
        want = recipe.get("model", {}).get("sha256")
        if not want:
            raise RecipeError("the recipe has no model.sha256 (it was redacted?), so it cannot be replayed")
        is_vgg = recipe["model"].get("arch") == vgg.ARCH
        if is_vgg and not explicit:
            raise RecipeError(f"this file was made with a VGG19 weights file (sha256 {want[:12]}…); give that file "
                              "with --model FILE")
        if explicit:
            got = file_sha256(explicit) if Path(explicit).is_file() else None
            if got != want:
                raise RecipeError(f"--model {explicit} is not the feature network that made this file "
                                  f"(the recipe wants weights with sha256 {want[:12]}…)")
            if is_vgg:
                return vgg19_handle(explicit, device, sha256=want)
            return feature_net_handle(device, explicit, sha256=want)
        if want != extract.SHA256:
            raise RecipeError(f"this file was made with other feature-network weights (sha256 {want[:12]}…) than "
                              "the packaged ones; give that weights file with --model FILE")
        return feature_net_handle(device)


def _replay_input(parent: dict, max_pixels: int, weight: float = 1.0) -> InputImage:
    path, want = Path(str(parent.get("path", ""))), parent.get("sha256")
    role = parent.get("role", "input")
    if not path.is_file():
        raise RecipeError(f"the {role} image this file was made from is missing: {path}; replay needs the same "
                          "input files at the same paths")
    got = file_sha256(path)
    if got != want:
        raise RecipeError(f"the {role} image {path} has changed since (sha256 {got[:12]}…, the recipe wants "
                          f"{str(want)[:12]}…); replay needs the original file")
    return read_input(path, role, max_pixels, weight)
