"""A toy task for the data-parallel check: a small MLP fits sin(3x) on 48 points (tests/training/test_ddp_*)."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from artforge.training.loop import Loop, Phase, TrainConfig

STEPS, BATCH = 4, 16


class Curve:
    ema_module = "net"

    def __init__(self):
        torch.manual_seed(0)
        self.modules = {"net": nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))}

    def phases(self):
        return [Phase("fit", "net", lr=0.01, betas=(0.9, 0.999))]

    def loss(self, phase, batch, step):
        loss = ((self.modules["net"](batch) - torch.sin(3 * batch)) ** 2).mean()
        return loss, {"loss/fit": loss.detach()}

    def end_step(self, batch_size):
        return {}

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


class Line:
    def __init__(self):
        self.x = torch.linspace(-1, 1, 48).unsqueeze(1)

    def __len__(self):
        return len(self.x)

    def batch(self, indices, generator):
        return self.x[torch.as_tensor(indices)]


def fit(run_dir: Path) -> dict[str, torch.Tensor]:
    """The toy net's weights after STEPS steps of a global batch of BATCH, in this process's group."""
    torch.set_num_threads(1)
    cfg = TrainConfig(steps=STEPS, batch_size=BATCH, device="cpu", log_every=STEPS, sample_every=0, ema_kimg=0,
                      checkpoint_minutes=60)
    loop = Loop(Curve(), Line(), cfg, run_dir, quiet=True, write_checkpoints=False)
    loop.run()
    return {k: v.clone() for k, v in loop.task.modules["net"].state_dict().items()}


def rank_main(rank: int, world: int, port: int, out: str) -> None:
    """torch.multiprocessing.spawn's target: join a gloo group on 127.0.0.1, fit, save this rank's weights."""
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    weights = fit(Path(out) / f"run{rank}")
    torch.save(weights, Path(out) / f"rank{rank}.pt")
