"""Sampling latency of the starter model: milliseconds per image at batch 1, 16 and 64 (JSON lines).

    python bench/sample_latency.py [--model starter] [--repeats 50] [--device cpu] [--threads N]

On CPU each batch size is timed twice: with oneDNN (the fastest kernels, but their choice depends on the
batch size, so an image can differ in the last float bits with the batch it was drawn in) and with the
batch-invariant kernels that `generate` and the studio use (pipelines/generate.py:
`batch_invariant_forward`: every image bit-identical in any batch, so replays are exact). The copy check
(`--no-copies`, on by default in the studio) is timed the same way. The last line is the most that
batching can gain for whole requests: the ratio of the per-image cost alone to that in a batch of 16,
generator and copy check together, as if HTTP, PNG and the database cost nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from artforge.metrics.guard import CopyGuard
from artforge.pipelines import load_model
from artforge.pipelines.generate import batch_invariant_forward
from artforge.runtime import tune_malloc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="starter")
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    tune_malloc()                        # as the CLI and the studio do
    if args.threads:
        torch.set_num_threads(args.threads)
    model = load_model(args.model, args.device)
    G, dev = model.module, torch.device(args.device)
    guard = CopyGuard.for_model(model)
    kernels = ["onednn", "batch_invariant"] if dev.type == "cpu" else ["default"]
    per_image: dict[tuple[str, int], float] = {}
    for kernel in kernels + ["copy_check"]:
        fn = {"batch_invariant": lambda z: batch_invariant_forward(G, z), "copy_check": guard}.get(kernel, G)
        for batch in (1, 16, 64):
            z = torch.randn(batch, model.z_dim, device=dev)
            times = []
            with torch.inference_mode():
                if kernel == "copy_check":
                    z = G(z)             # the check looks at images
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
            per_image[kernel, batch] = ms
            print(json.dumps({"bench": "sample_latency", "model": args.model, "device": str(dev), "kernels": kernel,
                              "batch": batch, "threads": torch.get_num_threads(), "ms_per_image": round(ms, 3),
                              "p90_ms_per_batch": round(sorted(times)[int(0.9 * len(times))] * 1000, 3)}))

    gen = "batch_invariant" if dev.type == "cpu" else "default"
    bound = {name: round(sum(per_image[k, 1] for k in ks) / sum(per_image[k, 16] for k in ks), 2)
             for name, ks in (("generate", [gen]), ("generate_copy_check", [gen, "copy_check"]),
                              ("generate_onednn", ["onednn"] if dev.type == "cpu" else [gen]))}
    print(json.dumps({"bench": "batching_bound", "batch": 16, "alone_over_batched": bound,
                      "note": "per-image cost alone / in a batch of 16, server work not counted"}))


if __name__ == "__main__":
    main()
