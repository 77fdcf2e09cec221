"""KID_effnet while a GAN trains: a fixed sample set scored every K steps, logged, plotted, best kept.

On start it embeds the training images once (up to MAX_REFERENCE of them), writes the copy-check index
beside the model (`train_index.safetensors`, for `generate --no-copies`), and then, every `every` steps and
at the end, generates `n_samples` images from fixed latents with the EMA generator and logs
{"KID_effnet", "KID_effnet_std"} into metrics.jsonl (and TensorBoard) beside the losses, plots `kid.png`,
and, when the figure improves, exports that model to `best/` (model.safetensors, config.json, best.json).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable

import torch

from ..features import FeatureExtractor, load_feature_net
from ..io.atomic import atomic_write_text
from ..io.weights import CONFIG_NAME, WEIGHTS_NAME, save_weights
from ..pipelines.base import latents
from ..training.callbacks import MetricsLog
from ..training.interfaces import Callback
from .evaluate import SAMPLE_SEED
from .kid import kid
from .memorization import INDEX_NAME, build_index, thumbnails
from .report import plot_kid, read_kid_history

MAX_REFERENCE = 5000
BEST = "best"


class KIDMonitor(Callback):
    def __init__(self, run_dir: Path, every: int, n_samples: int = 256, keep_best: bool = True,
                 extractor: Callable[[], FeatureExtractor] | None = None):
        self.run_dir, self.every, self.n, self.keep_best = Path(run_dir), every, n_samples, keep_best
        self._make_fx = extractor or (lambda: FeatureExtractor(load_feature_net()))
        self.best_kid, self.last_step = float("inf"), -1

    def on_start(self, loop) -> None:
        self.fx = self._make_fx()
        images = loop.data.as_tensor()
        if images is None:  # random crops: score against centre crops of every image
            gen = torch.Generator().manual_seed(0)
            images = ((loop.data.batch(list(range(len(loop.data))), gen) + 1) * 127.5).round().to(torch.uint8)
        if len(images) > MAX_REFERENCE:
            keep = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))[:MAX_REFERENCE]
            images = images[keep]
        self.ref = self.fx(images)
        if not (self.run_dir / INDEX_NAME).exists():
            build_index(self.ref, thumbnails(images), loop.data.manifest_sha256).save(self.run_dir / INDEX_NAME)
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
        fake = self.fx(((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8))
        mean, std = kid(self.ref, fake, subsets=50, subset_size=min(1000, len(self.ref), self.n))
        rec = {"step": loop.step, "kimg": loop.nimg / 1000, "KID_effnet": mean, "KID_effnet_std": std,
               "KID_effnet_samples": self.n}
        for cb in loop.callbacks:
            if isinstance(cb, MetricsLog):
                cb.on_log(loop, rec)
        self.last_step = loop.step
        if mean < self.best_kid and self.keep_best:
            self.best_kid = mean
            self._export_best(G, rec)
        history = read_kid_history(self.run_dir)
        if history:
            plot_kid(history, self.run_dir / "kid.png")
        return rec

    def _export_best(self, G: torch.nn.Module, rec: dict) -> None:
        folder = self.run_dir / BEST
        folder.mkdir(exist_ok=True)
        save_weights(G, folder / WEIGHTS_NAME, {"step": rec["step"]})
        if (self.run_dir / CONFIG_NAME).is_file():
            shutil.copyfile(self.run_dir / CONFIG_NAME, folder / CONFIG_NAME)
        if (self.run_dir / INDEX_NAME).is_file():
            shutil.copyfile(self.run_dir / INDEX_NAME, folder / INDEX_NAME)
        atomic_write_text(folder / "best.json", json.dumps(rec, indent=2) + "\n")


