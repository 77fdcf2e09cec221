"""Sampling latency of the starter model: milliseconds per image at batch 1 and batch 64 (JSON lines).

    python bench/sample_latency.py [--model starter] [--repeats 50] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from artforge.pipelines import load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="starter")
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    model = load_model(args.model, args.device)
    G, dev = model.module, torch.device(args.device)
    for batch in (1, 64):
        z = torch.randn(batch, model.z_dim, device=dev)
        times = []
        with torch.inference_mode():
            for i in range(args.repeats + 5):
                if dev.type == "cuda":
                    torch.cuda.synchronize()
                t0 = time.perf_counter()
                G(z)
                if dev.type == "cuda":
                    torch.cuda.synchronize()
                if i >= 5:  # warm-up excluded
                    times.append(time.perf_counter() - t0)
        ms = statistics.median(times) * 1000 / batch
        print(json.dumps({"bench": "sample_latency", "model": args.model, "device": str(dev), "batch": batch,
                          "threads": torch.get_num_threads(), "ms_per_image": round(ms, 3),
                          "p90_ms_per_batch": round(sorted(times)[int(0.9 * len(times))] * 1000, 3)}))


if __name__ == "__main__":
    main()
