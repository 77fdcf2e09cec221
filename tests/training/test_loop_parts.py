"""Unit checks of the loop's parts: sampler, EMA, checkpoint files, the loop on a plain regression task."""

from __future__ import annotations

import torch
from torch import nn

from artforge.training.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from artforge.training.ema import EMA
from artforge.training.loop import Loop, Phase, TrainConfig
from artforge.training.sampler import EpochSampler


def test_sampler_visits_every_item_once_per_epoch_and_shards_are_disjoint():
    ranks = [EpochSampler(10, seed=3, rank=r, world=2) for r in range(2)]
    seen = [i for _ in range(5) for s in ranks for i in s.next(1)]
    assert sorted(seen) == list(range(10))
    s = EpochSampler(10, seed=3)
    first = s.next(4)
    state = s.state_dict()
    after = s.next(8)  # crosses into epoch 1
    s2 = EpochSampler(10, seed=3)
    s2.load_state_dict(state)
    assert s2.next(8) == after and len(set(first)) == 4


def test_ema_follows_with_the_half_life_in_images():
    src = nn.Linear(2, 1, bias=False)
    ema = EMA(src, ema_kimg=0.01, rampup=None)  # half-life of 10 images
    with torch.no_grad():
        src.weight.fill_(1.0)
        ema.module.weight.fill_(0.0)
    ema.update(src, nimg=10, batch_size=10)  # one half-life: halfway there
    assert torch.allclose(ema.module.weight, torch.full((1, 2), 0.5))
    assert not ema.module.weight.requires_grad


def test_checkpoint_pointer_and_pruning(tmp_path):
    for step in (1, 2, 3):
        save_checkpoint(tmp_path, {"x": torch.tensor([step])}, step, keep=2)
    files = sorted(p.name for p in (tmp_path / "checkpoints").glob("step-*.pt"))
    assert files == ["step-00000002.pt", "step-00000003.pt"]
    path, step = latest_checkpoint(tmp_path)
    assert step == 3 and load_checkpoint(path)["x"].item() == 3
    (tmp_path / "checkpoints" / "latest").unlink()  # a lost pointer falls back to the newest file
    assert latest_checkpoint(tmp_path)[1] == 3


def test_checkpoint_refuses_pickled_code(tmp_path):
    import pytest

    from artforge.errors import RunError

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    bad = tmp_path / "evil.pt"
    torch.save({"format": 1, "obj": Evil()}, bad)
    with pytest.raises(RunError, match="cannot be read"):
        load_checkpoint(bad)


class _Regression:
    """A one-phase task: fit y = 3x - 1. The loop knows nothing else about it."""

    ema_module = "net"

    def __init__(self):
        self.modules = {"net": nn.Linear(1, 1)}

    def phases(self):
        return [Phase("fit", "net", lr=0.05, betas=(0.9, 0.999))]

    def loss(self, phase, batch, step):
        x = batch[:, :1]
        loss = ((self.modules["net"](x) - (3 * x - 1)) ** 2).mean()
        return loss, {"loss/fit": loss.detach()}

    def end_step(self, batch_size):
        return {}

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


class _Points:
    def __init__(self):
        self.x = torch.linspace(-1, 1, 64).unsqueeze(1)

    def __len__(self):
        return len(self.x)

    def batch(self, indices, generator):
        return self.x[torch.as_tensor(indices)]


def test_loop_fits_a_regression_with_accumulation(tmp_path):
    cfg = TrainConfig(steps=400, batch_size=16, accumulate=2, device="cpu", log_every=100, sample_every=0,
                      ema_kimg=0.05)
    loop = Loop(_Regression(), _Points(), cfg, tmp_path, quiet=True)
    loop.run()
    w, b = loop.task.modules["net"].weight.item(), loop.task.modules["net"].bias.item()
    assert abs(w - 3) < 0.05 and abs(b + 1) < 0.05
    assert loop.last_logs["loss/fit"] < 1e-3
    assert latest_checkpoint(tmp_path)[1] == 400
