"""What the loop and a model family agree on: the train config, phases, the Task protocol, callbacks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Sequence, runtime_checkable

import torch
from torch import nn

from ..config import setting
from ..errors import ConfigError, RunError

if TYPE_CHECKING:
    from .loop import Loop


@dataclass
class TrainConfig:
    # The tags say what a studio job may set and what a resumed run may change (artforge.config.setting).
    steps: int = setting(2000, resume=True, min=1, flag="--steps", metavar="N",
                         help="total optimizer steps of the run (a resumed run stops here too)")
    batch_size: int = setting(32, studio=True, min=1, max=4096, flag="--batch-size", metavar="N",
                              help="images per optimizer step, over all ranks and accumulation")
    accumulate: int = setting(1, studio=True, min=1, max=4096, help="micro-batches per optimizer step")
    seed: int = setting(0, studio=True, max=2**63 - 1, help="seed of the initial networks and the batches")
    device: str = setting("auto", resume=True, flag="--device", help="auto (default), cpu, cuda, cuda:N, mps")
    precision: str = setting("auto", studio=True,
                             help="auto (bf16/fp16 on CUDA, fp32 elsewhere) | fp32 | bf16 | fp16")
    channels_last: str = setting("auto", help="auto (on for CUDA) | on | off")
    grad_clip: float = setting(0.0, studio=True, help="max grad norm; 0 = off")
    ema_kimg: float = setting(2.0, studio=True, help="EMA half-life in thousands of images; 0 = no EMA copy")
    ema_rampup: float = setting(0.05, studio=True, max=1, help="EMA half-life ramp-up, as a fraction of the images seen")
    log_every: int = setting(10, studio=True, resume=True, help="log the losses every N steps")
    sample_every: int = setting(250, studio=True, resume=True, help="a sample grid every N steps; 0 = off")
    checkpoint_minutes: float = setting(10.0, studio=True, resume=True, help="a checkpoint every N minutes")
    checkpoint_every: int = setting(0, studio=True, resume=True, help="also a checkpoint every N steps; 0 = off")
    keep_checkpoints: int = setting(2, studio=True, resume=True, help="checkpoints kept (older ones are removed)")
    threads: int = setting(0, resume=True, help="CPU threads for torch; 0 = torch's default")
    budget_minutes: float = setting(0.0, studio=True, resume=True, max=1e7,
                                    help="stop early after this much training time (resumes count on); 0 = off")
    budget_clock: str = setting("wall", help="wall | cpu (process CPU time: fair between runs sharing a machine)")
    init_from: str = setting("", studio=True, help="start a new run from this model's weights (a run folder or "
                                                   "a shipped name)")
    init_partial: bool = setting(False, help="with init_from: load the tensors whose names and shapes fit, start "
                                             "the rest fresh")


def check_train(cfg: TrainConfig, world: int = 1) -> None:
    """The train settings a run cannot start with, as one ConfigError; the loop and the studio's check
    both call it, so they refuse in the same words. `world`: processes training together (torchrun)."""
    if not isinstance(cfg.steps, int) or cfg.steps < 1:
        raise ConfigError(f"train.steps={cfg.steps} must be at least 1 (the run's total of optimizer steps)")
    if cfg.batch_size < 1:
        raise ConfigError(f"train.batch_size={cfg.batch_size} must be at least 1 (images per optimizer step)")
    if cfg.accumulate < 1 or cfg.batch_size % (cfg.accumulate * world):
        raise ConfigError(f"train.batch_size={cfg.batch_size} must be a multiple of train.accumulate="
                          f"{cfg.accumulate} x {world} process(es)")
    if cfg.budget_clock not in ("wall", "cpu"):
        raise ConfigError(f"train.budget_clock={cfg.budget_clock!r}: use wall or cpu")


@dataclass
class Phase:
    name: str                         # "D", "G", "vae", ...
    module: str                       # key in task.modules trained by this phase
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    every: int = 1                    # run this phase every N steps
    freeze_others: bool = True        # other networks get no parameter grads during this phase


class Task(Protocol):
    modules: dict[str, nn.Module]
    ema_module: str | None

    def phases(self) -> list[Phase]: ...
    def loss(self, phase: str, batch: torch.Tensor, step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]: ...
    def end_step(self, batch_size: int) -> dict[str, float]: ...
    def state_dict(self) -> dict: ...
    def load_state_dict(self, state: dict) -> None: ...


class TrainData(Protocol):
    """What the loop trains on: its length, and batches drawn with the loop's generator only (so a resumed
    run that restores the generator gets the same batches)."""

    def __len__(self) -> int: ...
    def batch(self, indices: Sequence[int] | torch.Tensor, generator: torch.Generator) -> torch.Tensor: ...


@runtime_checkable
class ImageData(TrainData, Protocol):
    """Training pictures that a callback may score samples against (KID, the copy-check index):
    `data.ImageDataset` is one. `batch` gives float (B, 3, R, R) in [-1, 1]."""

    manifest_sha256: str

    def as_tensor(self) -> torch.Tensor | None: ...   # uint8 (N, 3, R, R), or None when sizes differ (random crops)


class Callback:
    """Side effects of training (sample grids, metric logs, exported weights); runs on rank 0 only.
    A callback with figures of its own logs them with `loop.log(record)`, beside the losses."""

    def on_start(self, loop: "Loop") -> None: ...
    def on_step(self, loop: "Loop") -> None: ...
    def on_log(self, loop: "Loop", record: dict) -> None: ...
    def on_checkpoint(self, loop: "Loop") -> None: ...
    def on_end(self, loop: "Loop") -> None: ...


class TrainingDiverged(RunError):
    """A loss or a weight stopped being a finite number; the run stops, its last finite checkpoint kept."""

    def __init__(self, message: str, step: int):
        super().__init__(message)
        self.step = step


class TrainingInterrupted(Exception):
    def __init__(self, step: int, signame: str):
        super().__init__(f"stopped by {signame} at step {step}")
        self.step, self.signame = step, signame
