"""The loop stops on a NaN/infinite loss or weight and keeps the last finite checkpoint; it times its first
steps and says how long the rest will take (with an injected clock: no sleeping)."""

from __future__ import annotations

import pytest
import torch

from artforge.training.checkpoint import latest_checkpoint, load_checkpoint
from artforge.training.interfaces import TrainingDiverged
from artforge.training.loop import Loop, TrainConfig

from test_loop_parts import _Points, _Regression


class _Fit(_Regression):
    """Fit y = 3x - 1 with one linear layer; `poison` spoils the fourth step on purpose."""

    def __init__(self, poison=None):
        torch.manual_seed(0)
        super().__init__()
        self.poison, self.step = poison, 0

    def loss(self, phase, batch, step):
        self.step = step
        loss, logs = super().loss(phase, batch, step)
        if self.poison == "loss" and step == 3:          # the fourth step's loss is NaN
            loss = loss * float("nan")
            logs = {"loss/fit": loss.detach()}
        return loss, logs

    def end_step(self, batch_size):
        if self.poison == "weight" and self.step == 3:   # the update of the fourth step left an infinity
            with torch.no_grad():
                self.modules["net"].bias.fill_(float("inf"))
        return {}


def _loop(tmp_path, task, **cfg) -> Loop:
    config = TrainConfig(**{"steps": 10, "batch_size": 8, "device": "cpu", "log_every": 1, "sample_every": 0,
                            "checkpoint_every": 1, "ema_kimg": 0.0, **cfg})
    return Loop(task, _Points(), config, tmp_path, quiet=True)


def test_a_nan_loss_stops_the_run_and_keeps_the_last_finite_checkpoint(tmp_path):
    loop = _loop(tmp_path, _Fit("loss"))
    with pytest.raises(TrainingDiverged) as e:
        loop.run()
    kept = tmp_path / "checkpoints" / "step-00000003.pt"
    assert str(e.value) == (f"training diverged at step 4: loss/fit=nan; stopped. Kept the last finite "
                            f"checkpoint, step 3 ({kept}), and the model.safetensors written with it. Lower the "
                            "learning rate (or check the data) and start a new run")
    assert latest_checkpoint(tmp_path) == (kept, 3)
    state = load_checkpoint(kept)["modules"]["net"]
    assert all(bool(torch.isfinite(v).all()) for v in state.values())


def test_weights_that_stop_being_finite_are_never_checkpointed(tmp_path):
    loop = _loop(tmp_path, _Fit("weight"))
    with pytest.raises(TrainingDiverged) as e:
        loop.run()
    assert str(e.value).startswith("training diverged at step 4: the weights of net are not finite; stopped. "
                                   "Kept the last finite checkpoint, step 3")
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("step-*.pt")) == ["step-00000002.pt",
                                                                                  "step-00000003.pt"]


def test_an_estimate_is_printed_from_the_first_timed_steps(tmp_path, capsys):
    loop = _loop(tmp_path, _Fit(), steps=40, checkpoint_every=0)
    loop.quiet = False
    loop.clock = lambda: loop.step * 3.0                # every step takes exactly 3 s
    loop.run()
    lines = [line for line in capsys.readouterr().err.replace("\r", "\n").splitlines()
             if line.startswith("estimate")]
    assert lines == ["estimate: 3 s per step (timed over 3 steps), so the remaining 36 steps take about 2 min"]


def test_the_estimate_says_where_the_time_budget_stops_the_run(tmp_path, capsys):
    loop = _loop(tmp_path, _Fit(), steps=400, checkpoint_every=0, budget_minutes=1.0)
    loop.quiet = False
    loop.clock = lambda: loop.step * 3.0
    loop.run()
    lines = [line for line in capsys.readouterr().err.replace("\r", "\n").splitlines()
             if line.startswith("estimate")]
    assert lines == ["estimate: 3 s per step (timed over 3 steps), so the remaining 396 steps take about 20 min; "
                     "train.budget_minutes=1 stops it after 60 s of training"]
    assert loop.step == 20                              # 20 steps of 3 s: the minute is spent
