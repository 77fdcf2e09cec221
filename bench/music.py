"""MusicVAE speed on this machine: training steps/s and melody decoding time, as JSON lines.

    python bench/music.py                 # 2-bar, 16-bar (segments, the default) and 16-bar token-level
                                          # hierarchical models, 1 and 2 threads
    python bench/music.py --threads 2 --repeats 20

Each line: {"bench": "music_train" | "music_decode", "bars", "decoder", "threads", ...}. Decoding is one
melody at batch 1 (what the CLI and a studio request do), median over repeats, with temperature sampling;
the target is a 16-bar melody in under 50 ms. Training steps use the default configs on random tokens,
median over steps: for 2 bars and the hierarchical decoder, forward + scheduled-sampling pass + backward
+ Adam (batch 64 and 32); for segments, encoding the 2-bar segments + the top level's latent loss +
backward + Adam (batch 128, as the starter was trained).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from artforge.config import apply_overrides
from artforge.training.tasks.music import MusicExperiment, MusicTask


def build(bars: int, decoder: str = "auto") -> MusicTask:
    exp = apply_overrides(MusicExperiment(), [f"data.bars={bars}", "vae.sampling_rampup=1",
                                              f"model.decoder={decoder}"])
    torch.manual_seed(0)
    return MusicTask(exp)


def train_speed(bars: int, decoder: str, batch: int, steps: int) -> dict:
    task = build(bars, decoder)
    vae = task.modules["vae"].train()
    opt = torch.optim.Adam([p for p in vae.parameters() if p.requires_grad], lr=1e-3)
    times = []
    for step in range(steps + 1):
        x = torch.randint(2, 90, (batch, bars * 16))  # new melodies every step: nothing remembered
        t0 = time.perf_counter()
        loss, _ = task.loss("vae", x, 10_000)        # past the ramps: the scheduled-sampling pass is on
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step:                                      # the first step warms the kernels up
            times.append(time.perf_counter() - t0)
    s = statistics.median(times)
    return {"sec_per_step": round(s, 4), "steps_per_s": round(1 / s, 2), "melodies_per_s": round(batch / s, 1),
            "batch": batch, "params_M": round(sum(p.numel() for p in vae.parameters()) / 1e6, 2)}


@torch.no_grad()
def decode_ms(bars: int, decoder: str, repeats: int) -> dict:
    vae = build(bars, decoder).modules["vae"].eval()
    z = torch.randn(1, vae.config.z_dim)
    times = []
    for i in range(repeats + 2):
        g = torch.Generator().manual_seed(i)
        t0 = time.perf_counter()
        vae.decode(z, 0.5, g)
        if i >= 2:
            times.append((time.perf_counter() - t0) * 1000)
    return {"decode_ms_median": round(statistics.median(times), 2), "decode_ms_max": round(max(times), 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    for threads in args.threads:
        torch.set_num_threads(threads)
        for bars, decoder, batch in ((2, "flat", 64), (16, "segments", 128), (16, "hierarchical", 32)):
            head = {"bars": bars, "decoder": decoder, "threads": threads}
            print(json.dumps({"bench": "music_decode", **head, "batch": 1,
                              **decode_ms(bars, decoder, args.repeats)}), flush=True)
            print(json.dumps({"bench": "music_train", **head,
                              **train_speed(bars, decoder, batch, args.steps)}), flush=True)


if __name__ == "__main__":
    main()
