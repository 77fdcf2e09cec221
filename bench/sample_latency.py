"""Sampling latency of the starter model: milliseconds per image at batch 1, 16 and 64 (JSON lines).

    python bench/sample_latency.py [--model starter] [--repeats 50] [--device cpu]

On CPU each batch size is timed twice: with oneDNN (the fastest kernels, but their choice depends on the
batch size, so an image can differ in the last float bits with the batch it was drawn in) and with the
batch-invariant kernels that `generate` and the studio use (pipelines/generate.py:
`batch_invariant_forward`: every image bit-identical in any batch, so replays are exact).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from artforge.pipelines import load_model
from artforge.pipelines.generate import batch_invariant_forward
from artforge.runtime import tune_malloc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="starter")
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    tune_malloc()                        # as the CLI and the studio do
    model = load_model(args.model, args.device)
    G, dev = model.module, torch.device(args.device)
    kernels = ["onednn", "batch_invariant"] if dev.type == "cpu" else ["default"]
    for kernel in kernels:
        fn = (lambda z: batch_invariant_forward(G, z)) if kernel == "batch_invariant" else G
        for batch in (1, 16, 64):
            z = torch.randn(batch, model.z_dim, device=dev)
            times = []
            with torch.inference_mode():
                for i in range(args.repeats + 5):
                    if dev.type == "cuda":
                        torch.cuda.synchronize()
                    t0 = time.perf_counter()
                    fn(z)
                    if dev.type == "cuda":
                        torch.cuda.synchronize()
                    if i >= 5:  # warm-up excluded
                        times.append(time.perf_counter() - t0)
            ms = statistics.median(times) * 1000 / batch
            print(json.dumps({"bench": "sample_latency", "model": args.model, "device": str(dev), "kernels": kernel,
                              "batch": batch, "threads": torch.get_num_threads(), "ms_per_image": round(ms, 3),
                              "p90_ms_per_batch": round(sorted(times)[int(0.9 * len(times))] * 1000, 3)}))


if __name__ == "__main__":
    main()
