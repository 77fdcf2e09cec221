"""Training side effects: metrics log (JSONL, TensorBoard, loss-curve PNG), sample grids, exported weights."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import torch

from ..io.atomic import atomic_write_text
from ..io.images import make_grid, save_png
from ..io.weights import CONFIG_NAME, WEIGHTS_NAME, save_config, save_weights
from .loop import Callback, Loop


class MetricsLog(Callback):
    """`metrics.jsonl` (one record per log step), TensorBoard events if installed, and `loss.png`."""

    def __init__(self, run_dir: Path, tensorboard: bool = True):
        self.path = Path(run_dir) / "metrics.jsonl"
        self.plot_path = Path(run_dir) / "loss.png"
        self.records: list[dict] = []
        self.writer = None
        self._want_tb = tensorboard

    def on_start(self, loop: Loop) -> None:
        # A resumed run drops records logged after its checkpoint: they belong to lost work.
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a kill
                if rec.get("step", 0) <= loop.step:
                    self.records.append(rec)
        atomic_write_text(self.path, "".join(json.dumps(r) + "\n" for r in self.records))
        if self._want_tb:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard is optional
                self.writer = None
            else:
                self.writer = SummaryWriter(str(self.path.parent / "tensorboard"), purge_step=loop.step + 1)

    def on_log(self, loop: Loop, record: dict) -> None:
        self.records.append(record)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        if self.writer is not None:
            for k, v in record.items():
                if k != "step" and isinstance(v, (int, float)):
                    self.writer.add_scalar(k, v, record["step"])

    def on_checkpoint(self, loop: Loop) -> None:
        self.plot()
        if self.writer is not None:
            self.writer.flush()

    def on_end(self, loop: Loop) -> None:
        self.plot()
        if self.writer is not None:
            self.writer.close()

    def plot(self) -> None:
        """Loss curves (and the augmentation probability, when there is one) over kimg."""
        keys = sorted({k for r in self.records for k in r if k.startswith("loss")})
        if not keys:
            return
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        has_p = any("aug_p" in r for r in self.records)
        fig, axes = plt.subplots(1, 2 if has_p else 1, figsize=(10 if has_p else 6, 3.5), squeeze=False)
        ax = axes[0][0]
        for k in keys:
            pts = [(r["kimg"], r[k]) for r in self.records if k in r]
            ax.plot(*zip(*pts), label=k.removeprefix("loss/"), linewidth=1)
        ax.set_xlabel("kimg (thousands of training images shown)")
        ax.set_ylabel("loss")
        ax.legend()
        ax.grid(alpha=0.3)
        if has_p:
            pts = [(r["kimg"], r["aug_p"]) for r in self.records if "aug_p" in r]
            axes[0][1].plot(*zip(*pts), color="tab:green")
            axes[0][1].set_xlabel("kimg")
            axes[0][1].set_ylabel("augmentation probability p")
            axes[0][1].grid(alpha=0.3)
        fig.tight_layout()
        tmp = self.plot_path.with_suffix(".tmp.png")
        fig.savefig(tmp, dpi=100)
        plt.close(fig)
        tmp.replace(self.plot_path)


class SampleGrid(Callback):
    """Every `every` steps, a grid of `preview(loop)` images to `samples/step-XXXXXXXX.png` and `latest.png`."""

    def __init__(self, run_dir: Path, every: int, preview: Callable[[Loop], torch.Tensor], nrow: int | None = None):
        self.folder = Path(run_dir) / "samples"
        self.every, self.preview, self.nrow = every, preview, nrow

    def write(self, loop: Loop) -> Path:
        grid = make_grid(self.preview(loop), self.nrow)
        path = self.folder / f"step-{loop.step:08d}.png"
        save_png(grid, path)
        save_png(grid, self.folder / "latest.png")
        return path

    def on_step(self, loop: Loop) -> None:
        if self.every > 0 and loop.step % self.every == 0:
            self.write(loop)

    def on_end(self, loop: Loop) -> None:
        if not (self.folder / f"step-{loop.step:08d}.png").exists():
            self.write(loop)


class ExportWeights(Callback):
    """Keeps `model.safetensors` (EMA weights, for inference) and `config.json` current in the run folder."""

    def __init__(self, run_dir: Path, config: dict):
        self.run_dir, self.config = Path(run_dir), config

    def on_start(self, loop: Loop) -> None:
        save_config(self.config, self.run_dir / CONFIG_NAME)

    def on_checkpoint(self, loop: Loop) -> None:
        module = loop.ema.module if loop.ema else loop.task.modules[loop.task.ema_module]
        save_weights(module, self.run_dir / WEIGHTS_NAME, {"step": loop.step})
