"""Evaluation speed on CPU: feature extraction images/s (plain vs tuned, side by side) and a full eval.

    python bench/eval.py [--images 256] [--full 1000]

1. EfficientNet-Lite0 at its 224 px input: the plain way (torch.no_grad, contiguous, batch 16) against
   artforge's FeatureExtractor (inference_mode, channels-last, batch 64), alternating rounds so machine noise
   hits both; prints both rates and their ratio.
2. `artforge eval starter --data FOLDER --n N` against N built-in landscapes (generated on first use):
   once to fill the reference cache, then timed with the cached reference statistics.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from artforge.features import FeatureExtractor, load_feature_net


def plain(net, images: torch.Tensor, batch: int = 16) -> None:
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = images[i:i + batch].float() / 255
            x = F.interpolate(x, size=(224, 224), mode="bilinear", antialias=True, align_corners=False)
            net.forward_features(net.normalize(x).contiguous())


def features(args) -> None:
    net = load_feature_net()
    fx = FeatureExtractor(net, batch_size=64)
    images = torch.randint(0, 256, (args.images, 3, 224, 224), dtype=torch.uint8)
    fx(images[:64])
    plain_net = load_feature_net().to(memory_format=torch.contiguous_format)
    plain(plain_net, images[:16])
    t = {"plain": 0.0, "tuned": 0.0}
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        plain(plain_net, images)
        t["plain"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        fx(images)
        t["tuned"] += time.perf_counter() - t0
    n = args.images * args.rounds
    rate = {k: n / v for k, v in t.items()}
    print(json.dumps({"bench": "features", "px": 224, "threads": torch.get_num_threads(),
                      "plain_img_per_s": round(rate["plain"], 1), "artforge_img_per_s": round(rate["tuned"], 1),
                      "speedup": round(rate["tuned"] / rate["plain"], 2)}))


def full_eval(args) -> None:
    from artforge.cli.main import main
    from artforge.data import generate_image

    folder = Path(tempfile.gettempdir()) / f"artforge-bench-landscapes-{args.full}"
    folder.mkdir(exist_ok=True)
    for i in range(args.full):
        if not (folder / f"{i:05d}.png").exists():
            generate_image(i).save(folder / f"{i:05d}.png")
    argv = ["eval", "starter", "--data", str(folder), "--n", str(args.full), "--out",
            str(Path(tempfile.gettempdir()) / "artforge-bench-eval"), "--quiet"]
    t0 = time.perf_counter()
    assert main(argv) == 0                      # first run also embeds the reference images
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert main(argv) == 0
    warm = time.perf_counter() - t0
    print(json.dumps({"bench": "eval_full", "samples": args.full, "reference": args.full,
                      "seconds_cold": round(cold, 1), "seconds_cached_reference": round(warm, 1)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--full", type=int, default=1000)
    args = ap.parse_args()
    features(args)
    if args.full:
        full_eval(args)


if __name__ == "__main__":
    main()
