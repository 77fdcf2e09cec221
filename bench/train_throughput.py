"""Training throughput: artforge's loop vs a bare PyTorch loop on the same DCGAN-64, plus the default GAN.

Prints JSON lines. The two DCGAN loops run in the same process, alternating in rounds, so machine noise
hits both alike; the figure to read is `loop_vs_bare_ratio` (images/s of artforge's loop / bare loop).

    python bench/train_throughput.py [--steps 20] [--rounds 3] [--batch-size 32] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F

from artforge.config import apply_overrides
from artforge.models import build_discriminator, build_generator
from artforge.training.loop import Loop
from artforge.training.tasks.gan import GANExperiment, GANTask, network_config


class TensorData:
    """Preloaded images in [-1, 1]: both loops fetch batches the same way, so only the loops differ."""

    def __init__(self, n: int, resolution: int):
        g = torch.Generator().manual_seed(0)
        self.x = torch.rand(n, 3, resolution, resolution, generator=g) * 2 - 1

    def __len__(self) -> int:
        return len(self.x)

    def batch(self, indices, generator) -> torch.Tensor:
        return self.x[torch.as_tensor(indices)]


def experiment(arch: str, resolution: int, batch: int, device: str) -> GANExperiment:
    return apply_overrides(GANExperiment(), [
        f"model.arch={arch}", "model.preset=tiny", f"data.resolution={resolution}", f"train.batch_size={batch}",
        f"train.device={device}", "train.log_every=1000000", "train.sample_every=0",
        "train.checkpoint_minutes=1000000"])


def artforge_loop(exp: GANExperiment, data: TensorData):
    loop = Loop(GANTask(exp), data, exp.train, tempfile.mkdtemp(), quiet=True, write_checkpoints=False)

    def run(steps: int) -> None:
        loop.config.steps = loop.step + steps
        loop.run()
    return run, loop.device


def bare_loop(exp: GANExperiment, data: TensorData, device: torch.device):
    """The PyTorch DCGAN example's step: one G forward, D on real and detached fake, then G on the same fake."""
    cfg = network_config(exp)
    G = build_generator("dcgan", cfg).to(device)
    D = build_discriminator("dcgan", cfg).to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    perm = torch.randperm(len(data))
    bs, z_dim = exp.train.batch_size, G.config.z_dim
    state = {"i": 0}

    def run(steps: int) -> None:
        for _ in range(steps):
            i = state["i"] % (len(data) // bs)
            state["i"] += 1
            real = data.batch(perm[i * bs:(i + 1) * bs], None).to(device)
            fake = G(torch.randn(bs, z_dim, device=device))
            opt_d.zero_grad(set_to_none=True)
            real_logits, fake_logits = D(real), D(fake.detach())
            loss_d = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
            loss_d.backward()
            opt_d.step()
            opt_g.zero_grad(set_to_none=True)
            loss_g = F.softplus(-D(fake)).mean()
            loss_g.backward()
            opt_g.step()
    return run


def images_per_s(run, steps: int, batch: int, device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    run(steps)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    torch.manual_seed(0)
    bs = args.batch_size

    exp = experiment("dcgan", 64, bs, args.device)
    data = TensorData(1024, 64)
    ours, device = artforge_loop(exp, data)
    bare = bare_loop(exp, data, device)
    ours(2), bare(2)  # warm-up
    a, b = [], []
    for _ in range(args.rounds):
        a.append(images_per_s(ours, args.steps, bs, device))
        b.append(images_per_s(bare, args.steps, bs, device))
    ratio = statistics.median(x / y for x, y in zip(a, b))
    print(json.dumps({"bench": "dcgan64_train", "device": str(device), "batch": bs, "threads": torch.get_num_threads(),
                      "artforge_img_per_s": round(statistics.median(a), 2),
                      "bare_img_per_s": round(statistics.median(b), 2), "loop_vs_bare_ratio": round(ratio, 4)}))
    for res in (64, 128):
        exp = experiment("lite", res, bs, args.device)
        run, device = artforge_loop(exp, TensorData(512, res))
        run(2)
        ips = statistics.median(images_per_s(run, args.steps, bs, device) for _ in range(args.rounds))
        print(json.dumps({"bench": f"lite{res}_train", "preset": "tiny", "device": str(device), "batch": bs,
                          "img_per_s": round(ips, 2)}))


if __name__ == "__main__":
    main()
