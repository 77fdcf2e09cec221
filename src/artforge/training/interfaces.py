"""What the loop and a model family agree on: the train config, phases, the Task protocol, callbacks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import torch
from torch import nn

from ..errors import RunError

if TYPE_CHECKING:
    from .loop import Loop


@dataclass
class TrainConfig:
    steps: int = 2000                 # total optimizer steps of the run (a resumed run stops here too)
    batch_size: int = 32              # images per optimizer step, over all ranks and accumulation
    accumulate: int = 1               # micro-batches per optimizer step
    seed: int = 0
    device: str = "auto"              # auto | cpu | cuda | cuda:N | mps
    precision: str = "auto"           # auto (bf16/fp16 on CUDA, fp32 elsewhere) | fp32 | bf16 | fp16
    channels_last: str = "auto"       # auto (on for CUDA) | on | off
    grad_clip: float = 0.0            # max grad norm; 0 = off
    ema_kimg: float = 2.0             # EMA half-life in thousands of images; 0 = no EMA copy
    ema_rampup: float = 0.05
    log_every: int = 10
    sample_every: int = 250
    checkpoint_minutes: float = 10.0
    checkpoint_every: int = 0         # also every N steps; 0 = off
    keep_checkpoints: int = 2
    threads: int = 0                  # CPU threads for torch; 0 = torch's default
    budget_minutes: float = 0.0       # stop early after this much training time (resumes count on); 0 = off
    budget_clock: str = "wall"        # wall | cpu (process CPU time: fair between runs sharing a machine)
    init_from: str = ""               # start a new run from this model's weights (a run folder or a shipped name)
    init_partial: bool = False        # with init_from: load the tensors whose names and shapes fit, start the rest fresh


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


class Callback:
    """Side effects of training (sample grids, metric logs, exported weights); runs on rank 0 only."""

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
