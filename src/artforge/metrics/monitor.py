"""KID_effnet while a GAN trains: a fixed sample set scored every K steps, logged, plotted, best kept.

On start it embeds the training images once (up to MAX_REFERENCE of them), writes the copy-check index
beside the model (`train_index.safetensors`, for `generate --no-copies`), and then, every `every` steps and
at the end, generates `n_samples` images from fixed latents with the EMA generator and logs
{"KID_effnet", "KID_effnet_std"} into metrics.jsonl (and TensorBoard) beside the losses, plots `kid.png`,
and, when the figure improves, exports that model to `best/` (model.safetensors, config.json, best.json).

KID alone can be fooled, so a model is eligible for `best/` only when its samples are finite and not
degenerate (`degenerate`): collapsed (the samples differ from one another less than COLLAPSE_RATIO as much
as the training images do: one picture for every latent, a flat or black image) or saturated (more than
SATURATION_EXCESS of the sample pixels clipped to pure black or white beyond the training set's own share:
what a diverged generator, e.g. `gan.lr_g=100`, draws). Refusals are logged (`best_refused` in
metrics.jsonl and one line on stderr).

`CopyIndexWriter` builds the copy-check index at the end of every GAN run, KID or not.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Callable

import torch
from tqdm import tqdm

from ..features import FeatureExtractor, load_feature_net
from ..io.atomic import atomic_write_text
from ..io.images import uint8_images
from ..io.weights import CONFIG_NAME, WEIGHTS_NAME, save_weights
from ..pipelines.base import latents
from ..training.interfaces import Callback, ImageData
from .evaluate import SAMPLE_SEED
from .kid import kid
from .memorization import INDEX_NAME, build_index, thumbnails
from .report import plot_kid, read_kid_history

MAX_REFERENCE = 5000
BEST = "best"
# Not eligible for best/: samples varying less than this share of the training set's own variation
# (tiny 4-step runs sit at 0.00-0.01, 30 steps at 0.42; a NaN/black model at 0) ...
COLLAPSE_RATIO = 0.1
# ... or with this much larger a share of pixels at pure black/white than the training set (a generator
# diverged at lr 100: 1.0 against the training set's 0.006; healthy runs about 0).
SATURATION_EXCESS = 0.5


def spread(u8: torch.Tensor) -> float:
    """How much images differ from one another: each pixel's std across the images, averaged, in [0, 1]
    units (0 when every image is the same).

    >>> spread(torch.zeros(4, 3, 8, 8, dtype=torch.uint8))
    0.0
    """
    return float((u8.float() / 255).std(0).mean()) if len(u8) > 1 else 0.0


def saturation(u8: torch.Tensor) -> float:
    """The share of pixel values at pure black (0) or pure white (255)."""
    return float(((u8 == 0) | (u8 == 255)).float().mean())


def degenerate(fake: torch.Tensor, ref_spread: float, ref_saturation: float) -> str | None:
    """Why uint8 samples `fake` must not become best/ (collapsed or saturated), else None."""
    ratio = spread(fake) / max(ref_spread, 1e-8)
    if ratio < COLLAPSE_RATIO:
        return (f"the samples have collapsed: they vary {ratio:.3f} as much as the training images "
                f"(under {COLLAPSE_RATIO})")
    sat = saturation(fake)
    if sat > ref_saturation + SATURATION_EXCESS:
        return (f"the samples are saturated: {sat:.0%} of their pixels are pure black or white "
                f"(training images: {ref_saturation:.0%})")
    return None


def image_data(loop, who: str) -> ImageData:
    """The loop's training pictures, which `who` scores samples against."""
    if not isinstance(loop.data, ImageData):
        raise TypeError(f"{who} scores pictures, but the loop trains on {type(loop.data).__name__}, which is not "
                        "ImageData (as_tensor, manifest_sha256)")
    return loop.data


def reference_images(data: ImageData) -> torch.Tensor:
    """uint8 (N, 3, R, R) training images (centre crops when crops are random), at most MAX_REFERENCE."""
    images = data.as_tensor()
    if images is None:  # random crops: score against centre crops of every image
        gen = torch.Generator().manual_seed(0)
        images = uint8_images(data.batch(list(range(len(data))), gen))
    if len(images) > MAX_REFERENCE:
        keep = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))[:MAX_REFERENCE]
        images = images[keep]
    return images


class CopyIndexWriter(Callback):
    """At the end of a run, `train_index.safetensors` (the copy check of `generate --no-copies`) when the
    run has none yet (KIDMonitor writes it at the start)."""

    def __init__(self, run_dir: Path, extractor: Callable[[], FeatureExtractor] | None = None):
        self.run_dir = Path(run_dir)
        self._make_fx = extractor or (lambda: FeatureExtractor(load_feature_net()))

    def on_end(self, loop) -> None:
        path = self.run_dir / INDEX_NAME
        data = image_data(loop, type(self).__name__)
        if path.exists() or len(data) < 2:
            return
        images = reference_images(data)
        build_index(self._make_fx()(images), thumbnails(images), data.manifest_sha256).save(path)


class KIDMonitor(Callback):
    def __init__(self, run_dir: Path, every: int, n_samples: int = 256, keep_best: bool = True,
                 extractor: Callable[[], FeatureExtractor] | None = None):
        self.run_dir, self.every, self.n, self.keep_best = Path(run_dir), every, n_samples, keep_best
        self._make_fx = extractor or (lambda: FeatureExtractor(load_feature_net()))
        self.best_kid, self.last_step = float("inf"), -1

    def on_start(self, loop) -> None:
        data = image_data(loop, type(self).__name__)
        self.fx = self._make_fx()
        images = reference_images(data)
        self.ref = self.fx(images)
        self.ref_spread, self.ref_saturation = spread(images[:1024]), saturation(images)
        if not (self.run_dir / INDEX_NAME).exists():
            build_index(self.ref, thumbnails(images), data.manifest_sha256).save(self.run_dir / INDEX_NAME)
        best = self.run_dir / BEST / "best.json"
        if best.is_file() and loop.step > 0:   # a resumed run keeps its best so far
            self.best_kid = float(json.loads(best.read_text(encoding="utf-8"))["KID_effnet"])

    def on_step(self, loop) -> None:
        if self.every > 0 and loop.step % self.every == 0:
            self.score(loop)

    def on_end(self, loop) -> None:
        if self.last_step != loop.step:
            self.score(loop)

    @torch.no_grad()
    def score(self, loop) -> dict:
        G = loop.ema.module if loop.ema else loop.task.modules[loop.task.ema_module]
        z = latents(list(range(SAMPLE_SEED, SAMPLE_SEED + self.n)), G.config.z_dim, loop.device)
        x = torch.cat([G(z[i:i + 64]).float().cpu() for i in range(0, self.n, 64)])
        self.last_step = loop.step
        if not bool(torch.isfinite(x).all()):
            self._refuse(loop, {"step": loop.step, "kimg": loop.nimg / 1000},
                         "the generator draws NaN or infinite pixels")
            return {}
        u8 = uint8_images(x)
        mean, std = kid(self.ref, self.fx(u8), subsets=50, subset_size=min(1000, len(self.ref), self.n))
        rec = {"step": loop.step, "kimg": loop.nimg / 1000, "KID_effnet": mean, "KID_effnet_std": std,
               "KID_effnet_samples": self.n, "sample_spread": spread(u8) / max(self.ref_spread, 1e-8)}
        why = degenerate(u8, self.ref_spread, self.ref_saturation)
        if why:
            self._refuse(loop, rec, why)
        else:
            loop.log(rec)
            if mean < self.best_kid and self.keep_best:
                self.best_kid = mean
                self._export_best(G, rec)
        history = read_kid_history(self.run_dir)
        if history:
            plot_kid(history, self.run_dir / "kid.png")
        return rec

    def _refuse(self, loop, rec: dict, why: str) -> None:
        """Log the figure with the reason it cannot become best/ (and say so on stderr)."""
        loop.log({**rec, "best_refused": why})
        if self.keep_best and not loop.quiet:
            tqdm.write(f"step {loop.step}: {why}; not kept in {self.run_dir / BEST}", file=sys.stderr)

    def _export_best(self, G: torch.nn.Module, rec: dict) -> None:
        folder = self.run_dir / BEST
        folder.mkdir(exist_ok=True)
        save_weights(G, folder / WEIGHTS_NAME, {"step": rec["step"]})
        if (self.run_dir / CONFIG_NAME).is_file():
            shutil.copyfile(self.run_dir / CONFIG_NAME, folder / CONFIG_NAME)
        if (self.run_dir / INDEX_NAME).is_file():
            shutil.copyfile(self.run_dir / INDEX_NAME, folder / INDEX_NAME)
        atomic_write_text(folder / "best.json", json.dumps(rec, indent=2) + "\n")


