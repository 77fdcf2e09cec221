"""The training loop on real GAN steps: learning, exact resume, checkpoints, signals, bad input."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from artforge.training.checkpoint import latest_checkpoint, load_checkpoint
from artforge.training.loop import Loop, Phase, TrainConfig


def _weights(run: Path) -> dict:
    return load_file(str(run / "model.safetensors"))


def test_train_writes_a_complete_run(cli, image_dir, tmp_path, tiny_overrides):
    run = tmp_path / "run"
    assert cli("train", "gan", image_dir, "--run", run, "--steps", 4, "--quiet", *tiny_overrides,
               "train.sample_every=2") == 0
    for name in ("train.json", "config.json", "model.safetensors", "manifest.json", "metrics.jsonl",
                 "loss.png", "samples/latest.png", "samples/step-00000004.png"):
        assert (run / name).exists(), name
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    assert {"loss/D", "loss/G", "aug_p", "img_per_s"} <= set(records[-1])
    assert list((run / "tensorboard").glob("events.out.tfevents.*")), "TensorBoard events expected"
    ckpt, step = latest_checkpoint(run)
    state = load_checkpoint(ckpt)
    assert step == 4 and state["nimg"] == 32
    assert {"modules", "ema", "optimizers", "scalers", "rng", "sampler", "data_rng", "task", "config",
            "manifest_sha256", "artforge_version"} <= set(state)
    manifest = json.loads((run / "manifest.json").read_text())
    assert len(manifest["files"]) == 12 and manifest["licence"] == "unknown"
    assert state["manifest_sha256"] == json.loads((run / "config.json").read_text())["dataset"]["manifest_sha256"]


def test_resumed_run_equals_uninterrupted_run(cli, image_dir, tmp_path, tiny_overrides):
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli("train", "gan", image_dir, "--run", a, "--steps", 6, "--quiet", *tiny_overrides) == 0
    assert cli("train", "gan", image_dir, "--run", b, "--steps", 3, "--quiet", *tiny_overrides) == 0
    assert cli("train", "--resume", b, "--steps", 6, "--quiet") == 0
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), f"EMA weight {k} differs after resume"
    sa = load_checkpoint(latest_checkpoint(a)[0])
    sb = load_checkpoint(latest_checkpoint(b)[0])
    for net in ("G", "D"):
        for k, v in sa["modules"][net].items():
            assert torch.equal(v, sb["modules"][net][k]), f"{net}.{k} differs after resume"
    assert sa["task"] == sb["task"]


def test_gan_overfits_a_single_image(tmp_path):
    """With one solid colour to learn (two pictures of it), the generator's output must move to that colour."""
    from PIL import Image

    from artforge.config import apply_overrides
    from artforge.training.tasks.gan import GANExperiment, train

    folder = tmp_path / "one"
    folder.mkdir()
    Image.new("RGB", (32, 32), (220, 40, 40)).save(folder / "red.png")
    Image.new("RGB", (32, 32), (221, 40, 40)).save(folder / "red2.png")   # training needs two pictures
    exp = apply_overrides(GANExperiment(), [
        f"data.path={folder}", "data.resolution=32", "train.batch_size=8", "train.steps=60",
        "train.sample_every=0", "train.log_every=10", "train.device=cpu", "gan.augment=none",
        "train.ema_kimg=0.05", "gan.lr_g=0.002", "gan.lr_d=0.002"])
    target = torch.tensor([220, 40, 40]).float() / 127.5 - 1
    loop = train(exp, tmp_path / "run", quiet=True, log=lambda m: None)
    with torch.no_grad():
        out = loop.ema.module(torch.randn(16, loop.task.z_dim)).mean(dim=(0, 2, 3))
    assert (out - target).abs().max() < 0.35, f"mean colour {out} far from {target}"


def test_checkpoint_on_sigterm_then_resume(image_dir, tmp_path, tiny_overrides, subprocess_env):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "artforge", "train", "gan", str(image_dir), "--run", str(run), "--steps",
           "100000", "--quiet", *tiny_overrides]
    proc = subprocess.Popen(cmd, env=subprocess_env, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: (run / "metrics.jsonl").exists() and (run / "metrics.jsonl").stat().st_size > 0, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err                  # 128 + SIGTERM, as shells report it
    assert "artforge train --resume" in err and "Traceback" not in err
    found = latest_checkpoint(run)
    assert found is not None and found[1] >= 1
    assert subprocess.run([*cmd[:3], "train", "--resume", str(run), "--steps", str(found[1] + 2), "--quiet"],
                          env=subprocess_env).returncode == 0
    assert latest_checkpoint(run)[1] == found[1] + 2


def test_sigkill_loses_at_most_the_work_since_the_last_checkpoint(image_dir, tmp_path, tiny_overrides,
                                                                  subprocess_env):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "artforge", "train", "gan", str(image_dir), "--run", str(run), "--steps",
           "100000", "--quiet", *tiny_overrides, "train.checkpoint_every=2"]
    proc = subprocess.Popen(cmd, env=subprocess_env, stderr=subprocess.DEVNULL)
    _wait_for(lambda: (latest_checkpoint(run) or (None, 0))[1] >= 4, proc)
    proc.kill()
    proc.wait(timeout=30)
    path, step = latest_checkpoint(run)
    assert load_checkpoint(path)["step"] == step  # the pointer names a complete checkpoint
    rc = subprocess.run([sys.executable, "-m", "artforge", "train", "--resume", str(run), "--steps",
                         str(step + 1), "--quiet"], env=subprocess_env).returncode
    assert rc == 0 and latest_checkpoint(run)[1] == step + 1


def test_a_run_being_trained_cannot_be_resumed_by_a_second_process(cli, image_dir, tmp_path, tiny_overrides,
                                                                  subprocess_env, capsys):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "artforge", "train", "gan", str(image_dir), "--run", str(run), "--steps",
           "100000", "--quiet", *tiny_overrides, "train.checkpoint_every=1",
           "train.keep_checkpoints=100000"]  # none pruned under the resume reading one
    proc = subprocess.Popen(cmd, env=subprocess_env, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: latest_checkpoint(run) is not None, proc)
        capsys.readouterr()
        assert cli("train", "--resume", run, "--steps", 200000, "--quiet") == 2
        err = capsys.readouterr().err.strip()
        assert err == (f"error: {run} is being trained by another artforge process (pid {proc.pid}); wait for "
                       "it to finish or stop it, or choose another --run folder")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert json.loads((run / "train.json").read_text())["config"]["train"]["steps"] == 100000


def _wait_for(cond, proc, timeout=120):
    t0 = time.monotonic()
    while not cond():
        if proc.poll() is not None:
            raise AssertionError(f"training exited early with {proc.returncode}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            raise AssertionError("timed out waiting for training")
        time.sleep(0.1)


class _Curve:
    """A toy one-phase task: a small MLP fits sin(3x); its loss is a mean over the batch, like the GAN's."""

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


class _Line:
    def __init__(self):
        self.x = torch.linspace(-1, 1, 48).unsqueeze(1)

    def __len__(self):
        return len(self.x)

    def batch(self, indices, generator):
        return self.x[torch.as_tensor(indices)]


def _fit(tmp_path: Path, steps: int, accumulate: int) -> nn.Module:
    cfg = TrainConfig(steps=steps, batch_size=16, accumulate=accumulate, device="cpu", log_every=steps,
                      sample_every=0, ema_kimg=0, checkpoint_minutes=60)
    loop = Loop(_Curve(), _Line(), cfg, tmp_path / f"acc{accumulate}-{steps}", quiet=True, write_checkpoints=False)
    loop.run()
    return loop.task.modules["net"]


@pytest.mark.parametrize("precision,dtype", [("bf16", torch.bfloat16), ("fp16", torch.float16), ("fp32", None)])
def test_the_step_runs_under_autocast_of_the_chosen_dtype_on_cpu(tmp_path, precision, dtype):
    seen = []

    class Probe(_Curve):
        def loss(self, phase, batch, step):
            out = self.modules["net"](batch)            # a Linear: autocast runs it in the low-precision dtype
            seen.append((torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu"), out.dtype))
            return super().loss(phase, batch, step)

    cfg = TrainConfig(steps=1, batch_size=16, device="cpu", precision=precision, log_every=1, sample_every=0,
                      ema_kimg=0)
    loop = Loop(Probe(), _Line(), cfg, tmp_path, quiet=True, write_checkpoints=False)
    loop.run()
    if dtype is None:
        assert seen == [(False, torch.float32, torch.float32)]    # fp32: autocast off, the Linear in float32
    else:
        assert seen == [(True, dtype, dtype)]
    assert loop.scalers["fit"].is_enabled() is (precision == "fp16")   # the scaler is for fp16 only


def test_the_grad_scaler_skips_a_step_whose_gradient_is_infinite_and_halves_its_scale(tmp_path):
    class InfGrad(_Curve):
        def loss(self, phase, batch, step):
            loss, logs = super().loss(phase, batch, step)
            w = self.modules["net"][0].weight
            # sqrt at 0: the value is 0 (the loss stays finite), its derivative 1 / (2 sqrt 0) is inf
            return loss + torch.sqrt(w - w.detach()).sum(), logs

    cfg = TrainConfig(steps=1, batch_size=16, device="cpu", precision="fp16", log_every=1, sample_every=0,
                      ema_kimg=0)
    loop = Loop(InfGrad(), _Line(), cfg, tmp_path, quiet=True, write_checkpoints=False)
    before = {k: v.clone() for k, v in loop.task.modules["net"].state_dict().items()}
    scale = loop.scalers["fit"].get_scale()
    loop.run()
    assert scale == 65536.0 and loop.scalers["fit"].get_scale() == scale / 2   # backoff factor 0.5
    for k, v in loop.task.modules["net"].state_dict().items():
        assert torch.equal(v, before[k]), k                                    # the step was skipped
    assert loop.optimizers["fit"].state == {}                                  # Adam never stepped
    assert not torch.isfinite(loop.task.modules["net"][0].weight.grad).all()


def test_accumulated_micro_batches_equal_one_batch_of_their_total_size(tmp_path):
    # 4 micro-batches of 4 against one batch of 16 (the same 16 points: the sampler hands them out in order).
    # Float32 sums taken in another order differ in the last bits only: 1e-6 on gradients of order 0.1-1.
    one, four = _fit(tmp_path, 1, 1), _fit(tmp_path, 1, 4)
    for p, q in zip(one.parameters(), four.parameters()):
        assert p.grad.abs().max() > 1e-3                      # a real gradient, not zeros on both sides
        torch.testing.assert_close(q.grad, p.grad, rtol=0, atol=1e-6)
    # and after several Adam steps the weights still agree (Adam divides by sqrt(v): 1e-5 on weights of order 1)
    for p, q in zip(_fit(tmp_path, 5, 1).parameters(), _fit(tmp_path, 5, 4).parameters()):
        torch.testing.assert_close(q, p, rtol=0, atol=1e-5)


class _LinearCritic(nn.Module):
    """D(x) = sum(w * x) per image: grad_x D = w for every image, so R1 = ||w||^2 exactly."""

    def __init__(self, shape):
        super().__init__()
        self.w = nn.Parameter(torch.full(shape, 0.5))

    def forward(self, x):
        return (x * self.w).flatten(1).sum(dim=1)


def test_r1_is_the_squared_gradient_norm_weighted_by_gamma_over_two_times_every():
    from artforge.config import apply_overrides
    from artforge.training.tasks.gan import GANExperiment, GANTask

    exp = apply_overrides(GANExperiment(), ["data.resolution=32", "model.preset=tiny", "gan.augment=none",
                                            "gan.r1_gamma=2.0", "gan.r1_every=4", "gan.loss=hinge"])
    task = GANTask(exp)
    task.modules["D"] = _LinearCritic((3, 32, 32))
    real = torch.zeros(2, 3, 32, 32)
    loss, logs = task.loss("D", real, step=8)
    # ||w||^2 = 3 * 32 * 32 * 0.25 = 768; added to D's loss times gamma / 2 * every = 2 / 2 * 4
    assert float(logs["r1"]) == 768.0
    assert float(loss) == pytest.approx(float(logs["loss/D"]) + 768.0 * 4, rel=1e-6)
    # D's hinge loss on real logits 0 is relu(1 - 0) = 1 plus relu(1 + D(fake)) averaged
    fake = task._fakes[-1].detach()
    assert float(logs["loss/D"]) == pytest.approx(1.0 + float(torch.relu(1 + (fake * 0.5).flatten(1).sum(1)).mean()),
                                                  rel=1e-6)
    _, lazy = task.loss("D", real, step=9)                     # lazy R1: only every 4th step
    assert "r1" not in lazy


@pytest.mark.parametrize("arch,extra,lr", [("lite", [], (4e-4, 4e-4)), ("dcgan", [], (2e-4, 2e-4)),
                                           ("lite", ["gan.lr_g=0.001", "gan.lr_d=0.0003"], (1e-3, 3e-4))])
def test_learning_rates_default_to_the_architectures(cli, image_dir, tmp_path, tiny_overrides, arch, extra, lr):
    run = tmp_path / "run"
    assert cli("train", "gan", image_dir, "--run", run, "--steps", 1, "--quiet", *tiny_overrides,
               f"model.arch={arch}", *extra) == 0
    state = load_checkpoint(latest_checkpoint(run)[0])
    got = tuple(state["optimizers"][k]["param_groups"][0]["lr"] for k in ("G", "D"))
    assert got == pytest.approx(lr)
