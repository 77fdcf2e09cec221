"""The style family's part of training: an arbitrary-style decoder, or one fast network per style.

Both learn against the frozen feature network (EfficientNet-Lite0, BatchNorm folded), measured at its
ReLU6 taps (docs/style.md says why those taps):

- arbitrary (`models/stylenet.py: StyleDecoder`): each step pairs content crops with style crops; the
  decoder turns AdaIN'd features back into pictures. Loss (Huang & Belongie 2017): the picture's own
  features should be the AdaIN targets (content), and its per-channel mean/std at four taps should be the
  style's (style).
- fast (`TransformNet`): one style image; content crops in, loss = content features of the photograph
  at `blocks.5.expand` + Gram statistics of the style at four taps + total variation (Johnson et al. 2016).

Each loss part is divided by its target's own size (as in the optimization method), so the weights read
as "how far from the target, relative to the target".

`data.path` is the style: one image file trains a fast network, `builtin` (procedural paintings from
data/styles.py) or a folder of images trains the arbitrary-style decoder. Content crops come from
`data.content`: `builtin` (photographs shipped in installed packages) or a folder.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ... import __version__
from ...config import setting, to_dict
from ...data.images import BadImage, decode_image
from ...data.styles import photo_paths, style_images
from ...errors import ConfigError, DataError
from ...features import extract
from ...features.efficientnet_lite import fold_batchnorm
from ...features.taps import FeatureTaps
from ...losses.style import content_loss, gram, mean_std, statistics_loss, tv_loss
from ...models.stylenet import (AdaINConfig, StyleDecoder, TransformConfig, TransformNet, stylize_features,
                                style_code)
from ..callbacks import ExportWeights, MetricsLog, SampleGrid
from ..interfaces import check_train
from ..loop import Callback, Loop, Phase, TrainConfig
from ..run import run_loop

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
STYLE_TAPS = ("blocks.1.expand", "blocks.3.expand", "blocks.5.expand", "blocks.8.expand")
CONTENT_TAP = "blocks.5.expand"
MAX_PIXELS = 50_000_000
MAX_LONG_PX = 768          # images are kept in memory with at most this long side (crops are drawn from them)


@dataclass
class StyleDataConfig:
    path: str = setting("builtin", resume=True,  # may move on resume: the images' hashes are checked
                        help="the style: an image file (fast network) | builtin | a folder (arbitrary)")
    content: str = "builtin"        # content photographs: builtin | a folder
    px: int = setting(256, studio=True, min=16, max=2048, help="training crop size")
    styles: int = setting(420, studio=True, min=1, help="arbitrary, builtin: how many procedural styles are "
                                                        "generated")
    items: int = setting(4096, studio=True, min=1, help="content crops per epoch (an epoch is a bookkeeping "
                                                        "unit here)")


@dataclass
class StyleModelConfig:
    kind: str = setting("auto", studio=True, help="auto (by data.path) | arbitrary | fast")
    widths: tuple[int, ...] = ()    # () = the kind's default: arbitrary 32,64,128 (decoder at strides 2, 4, 8);
                                    # fast 16,32,64 (at full size, /2, /4)
    res_blocks: int = setting(5, studio=True, max=64, help="fast only: residual blocks")
    deep_convs: int = setting(2, studio=True, max=8, help="arbitrary only: 3x3 convolutions at stride 8")


@dataclass
class StyleLossConfig:
    lr: float = setting(1e-3, studio=True, max=1, help="Adam's learning rate")
    content_weight: float = setting(1.0, studio=True, help="weight of the content loss")
    style_weight: float = setting(5.0, studio=True, help="weight of the style loss")
    tv_weight: float = setting(0.0, studio=True, help="weight of the total variation loss")
    content_levels: str = setting("all", studio=True, help="arbitrary: content loss at every AdaIN level (all) or "
                                                           "the deepest only (deep)")


def _train_defaults() -> TrainConfig:
    return TrainConfig(steps=3000, batch_size=8, ema_kimg=0.0, sample_every=250, log_every=20)


@dataclass
class StyleExperiment:
    data: StyleDataConfig = field(default_factory=StyleDataConfig)
    model: StyleModelConfig = field(default_factory=StyleModelConfig)
    style: StyleLossConfig = field(default_factory=StyleLossConfig)
    train: TrainConfig = field(default_factory=_train_defaults)


def kind_of(exp: StyleExperiment) -> str:
    k = exp.model.kind
    if exp.style.content_levels not in ("all", "deep"):
        raise ConfigError(f"style.content_levels='{exp.style.content_levels}': choose all or deep")
    if exp.model.widths and len(exp.model.widths) != 3:
        raise ConfigError(f"model.widths={','.join(map(str, exp.model.widths))}: give three widths, e.g. 16,32,64")
    if not 0 <= exp.model.deep_convs <= 8:
        raise ConfigError(f"model.deep_convs={exp.model.deep_convs}: give 0 to 8")
    if k not in ("auto", "arbitrary", "fast"):
        raise ConfigError(f"model.kind='{k}' is not known; choose auto, arbitrary or fast")
    if k == "auto":
        return "fast" if Path(exp.data.path).is_file() else "arbitrary"
    return k


def check(exp: StyleExperiment) -> None:
    """Refuse now, in the trainer's words, a setting training would refuse at its start (the data aside)."""
    kind_of(exp)
    check_train(exp.train)


# -- data ------------------------------------------------------------------------------------------
def _read(path: Path, what: str) -> torch.Tensor:
    """(3, H, W) uint8 with the long side at most MAX_LONG_PX; one clear line when the file is bad."""
    try:
        img, _ = decode_image(path, MAX_PIXELS)
    except BadImage as e:
        raise DataError(f"{what} {path}: {e}") from None
    k = MAX_LONG_PX / max(img.size)
    if k < 1:
        img = img.resize((max(1, round(img.width * k)), max(1, round(img.height * k))), resample=3)
    return torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1)


def _folder(path: str, what: str, px: int) -> list[Path]:
    p = Path(path).expanduser()
    if not p.is_dir():
        raise DataError(f"{what} folder not found: {p} (give a folder of images, or 'builtin')")
    files = sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{what} folder {p} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def _read_usable(paths: list[Path], what: str) -> tuple[list[torch.Tensor], list[Path], list[str]]:
    """(images, their paths, 'path: reason' for each broken file skipped) — like GAN training, a broken
    file is skipped and listed, not the end of the run; DataError only when none is usable."""
    images, used, skipped = [], [], []
    for p in paths:
        try:
            images.append(_read(p, what))
            used.append(p)
        except DataError as e:
            skipped.append(str(e))
    if not images:
        raise DataError(f"no usable {what} among {len(paths)} file(s); the first: {skipped[0]}")
    return images, used, skipped


class StyleData:
    """`batch(indices, g)` -> (B, 3, px, px) content crops, or (B, 6, px, px) content + style for arbitrary."""

    def __init__(self, exp: StyleExperiment, kind: str, progress: bool = False):
        d = exp.data
        self.px, self.items, self.kind = d.px, d.items, kind
        sources = photo_paths() if d.content == "builtin" else _folder(d.content, "content", d.px)
        self.content, sources, self.skipped = _read_usable(sources, "content image")
        self.styles: list[torch.Tensor] = []
        manifest_files = [str(p) for p in sources]
        if kind == "arbitrary":
            if d.path == "builtin":
                self.styles = [torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1)
                               for im in style_images(d.styles, px=max(d.px, 256))]
            else:
                self.styles, files, skipped = _read_usable(_folder(d.path, "style", d.px), "style image")
                self.skipped += skipped
                manifest_files += [str(p) for p in files]
        too_small = [i for i, t in enumerate(self.content + self.styles) if min(t.shape[-2:]) < d.px // 2]
        if too_small:
            raise DataError(f"{len(too_small)} image(s) are smaller than half of data.px={d.px}; "
                            "use larger pictures or a smaller data.px")
        self.manifest = {"content": d.content, "styles": d.path, "files": manifest_files,
                         "licence": "builtin: package sample data and procedural styles (CC0)"
                         if d.content == d.path == "builtin" else "unknown", "consent": "unknown"}
        self.manifest_sha256 = hashlib.sha256(json.dumps(self.manifest, sort_keys=True).encode()).hexdigest()

    def __len__(self) -> int:
        return self.items

    def _crop(self, img: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        """A random square crop at a random scale (1/2 to 1 of the short side), resized to px, maybe flipped."""
        h, w = img.shape[-2:]
        side = int(min(h, w) * (0.5 + 0.5 * torch.rand((), generator=g)))
        side = max(side, min(h, w, self.px // 2))
        y = int(torch.randint(0, h - side + 1, (), generator=g))
        x = int(torch.randint(0, w - side + 1, (), generator=g))
        crop = img[:, y:y + side, x:x + side][None].float() / 255.0
        crop = F.interpolate(crop, size=(self.px, self.px), mode="bilinear", antialias=side > self.px,
                             align_corners=False)[0]
        return crop.flip(-1) if torch.rand((), generator=g) < 0.5 else crop

    def batch(self, indices: list[int], g: torch.Generator) -> torch.Tensor:
        out = []
        for i in indices:
            c = self._crop(self.content[i % len(self.content)], g)
            if self.kind == "arbitrary":
                s = self._crop(self.styles[int(torch.randint(0, len(self.styles), (), generator=g))], g)
                c = torch.cat([c, s])
            out.append(c)
        return torch.stack(out).clamp(0, 1)


# -- the task --------------------------------------------------------------------------------------
def feature_taps(layers: Sequence[str], device: str | torch.device = "cpu") -> FeatureTaps:
    """The frozen feature network with BatchNorm folded (same activations, faster: docs/benchmarks.md)."""
    return FeatureTaps(fold_batchnorm(extract.load_feature_net(device)), tuple(layers))


class StyleTask:
    ema_module = "net"

    def __init__(self, exp: StyleExperiment, kind: str, style: torch.Tensor | None = None):
        self.exp, self.kind = exp, kind
        m = exp.model
        if kind == "arbitrary":
            self.net_config = AdaINConfig(widths=tuple(m.widths) or AdaINConfig.widths, deep_convs=m.deep_convs)
            net = StyleDecoder(self.net_config)
            self.taps = feature_taps(tuple(dict.fromkeys(self.net_config.taps + STYLE_TAPS)))
        else:
            self.net_config = TransformConfig(widths=tuple(m.widths) or TransformConfig.widths, res_blocks=m.res_blocks)
            net = TransformNet(self.net_config)
            self.taps = feature_taps(tuple(dict.fromkeys(STYLE_TAPS + (CONTENT_TAP,))))
            with torch.no_grad():
                feats = self.taps(style)
                self.grams = {t: gram(feats[t]) for t in STYLE_TAPS}
                self.gram_scale = {t: float(g.pow(2).mean()) + 1e-8 for t, g in self.grams.items()}
        self.modules = {"net": net}

    def phases(self) -> list[Phase]:
        return [Phase("style", "net", self.exp.style.lr, (0.9, 0.999))]

    def loss(self, phase: str, batch: torch.Tensor, step: int):
        s = self.exp.style
        if self.taps.device != batch.device:          # the loop moved the network; the frozen encoder follows
            self.taps.net.to(batch.device)
            self.taps.device = batch.device
            if self.kind == "fast":
                self.grams = {t: g.to(batch.device) for t, g in self.grams.items()}
        if self.kind == "arbitrary":
            return self._arbitrary(batch, s)
        content = batch
        with torch.no_grad():
            target = self.taps(content)[CONTENT_TAP]
        out = self.modules["net"](content)
        feats = self.taps(out)
        lc = content_loss(feats[CONTENT_TAP], target) / (float(target.pow(2).mean()) + 1e-8)
        ls = sum(statistics_loss((gram(feats[t]),), (self.grams[t].expand(len(out), -1, -1),)) / self.gram_scale[t]
                 for t in STYLE_TAPS) / len(STYLE_TAPS)
        ltv = tv_loss(out)
        loss = s.content_weight * lc + s.style_weight * ls + s.tv_weight * ltv
        return loss, {"loss/content": lc.detach(), "loss/style": ls.detach(), "loss/tv": ltv.detach()}

    def _arbitrary(self, batch: torch.Tensor, s: StyleLossConfig):
        c, st = batch[:, :3], batch[:, 3:]
        taps = self.net_config.taps
        with torch.no_grad():
            fc, fs = self.taps(c), self.taps(st)
            targets = stylize_features(fc, style_code(fs, taps), taps)
            style_stats = {t: mean_std(fs[t]) for t in STYLE_TAPS}
        out = self.modules["net"](*targets)
        fo = self.taps(out)
        levels = list(zip(taps, targets))[-1:] if s.content_levels == "deep" else list(zip(taps, targets))
        lc = sum(content_loss(fo[t], y) / (float(y.pow(2).mean()) + 1e-8) for t, y in levels) / len(levels)
        ls = 0.0
        for t in STYLE_TAPS:
            mu, sigma = style_stats[t]
            ls = ls + statistics_loss(mean_std(fo[t]), (mu, sigma)) / (float((mu.pow(2) + sigma.pow(2)).mean()) + 1e-8)
        ls = ls / len(STYLE_TAPS)
        ltv = tv_loss(out)
        loss = s.content_weight * lc + s.style_weight * ls + s.tv_weight * ltv
        return loss, {"loss/content": lc.detach(), "loss/style": ls.detach(), "loss/tv": ltv.detach()}

    def end_step(self, batch_size: int) -> dict[str, float]:
        return {}

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass

    def inference_config(self, dataset: dict) -> dict:
        arch = "adain-lite0" if self.kind == "arbitrary" else "transform-net"
        return {"family": "style", "arch": arch, "model": to_dict(self.net_config), "feature_net": extract.SHA256,
                "artforge_version": __version__, "dataset": dataset}

    @torch.no_grad()
    def preview(self, batch: torch.Tensor) -> torch.Tensor:
        """(3B, 3, px, px): content, style (or the content again for fast), result, side by side per row."""
        net = self.modules["net"]
        was = net.training
        net.eval()
        if self.kind == "arbitrary":
            c, st = batch[:, :3], batch[:, 3:]
            taps = self.net_config.taps
            out = net(*stylize_features(self.taps(c), style_code(self.taps(st), taps), taps))
        else:
            c = st = batch
            out = net(c)
        net.train(was)
        return torch.stack([c, st, out.clamp(0, 1)], 1).flatten(0, 1).cpu() * 2 - 1   # make_grid wants [-1, 1]


def train(exp: StyleExperiment, run_dir: Path, state: dict | None = None, quiet: bool = False,
          log: Callable[[str], None] = print, callbacks: Sequence[Callback] = ()) -> Loop:
    """Train (or continue, given a checkpoint `state`) a style network in `run_dir`."""
    kind = kind_of(exp)
    style = None
    if kind == "fast":
        path = Path(exp.data.path).expanduser()
        if not path.is_file():
            raise DataError(f"style image not found: {path}")
        style = _read(path, "style image")[None].float() / 255.0
        if min(style.shape[-2:]) < 64:
            raise DataError(f"style image {path} is smaller than 64 px on its shorter side; give a larger one")
    data = StyleData(exp, kind)
    if data.skipped:
        log(f"skipped {len(data.skipped)} unusable file(s):\n" + "\n".join(f"  {m}" for m in data.skipped))
    if state is not None and state.get("manifest_sha256") != data.manifest_sha256:
        raise ConfigError("the images of this run changed since it started; start a new run to train on them")
    log(f"style ({kind}): {len(data.content)} content images" +
        (f", {len(data.styles)} style images" if kind == "arbitrary" else f", style {exp.data.path}"))
    torch.manual_seed(exp.train.seed)
    task = StyleTask(exp, kind, style)
    g = torch.Generator().manual_seed(4321)
    fixed = data.batch(list(range(6)), g)
    run_dir = Path(run_dir)
    dataset = {"manifest_sha256": data.manifest_sha256, "licence": data.manifest["licence"],
               "style": exp.data.path if kind == "fast" else None}
    callbacks = [ExportWeights(run_dir, task.inference_config(dataset)), MetricsLog(run_dir),
                 SampleGrid(run_dir, exp.train.sample_every, lambda loop: task.preview(fixed.to(loop.device)), nrow=6),
                 *callbacks]
    return run_loop("style", exp, task, data, run_dir, state, callbacks, quiet)
