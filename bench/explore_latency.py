"""Latent-explorer preview latency: POST /api/explore on a running `artforge studio` (JSON line).

Starts the studio in its own process on a free 127.0.0.1 port with a fresh data dir, signs in with the
first-start link, asks for the model's directions once, then sends `--requests` previews one after the
other with the offsets changing as a dragged slider's would, and prints p50/p95/max milliseconds.

    python bench/explore_latency.py [--model starter] [--requests 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import httpx

from studio_load import studio         # bench/: a fresh signed-in studio in its own process


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="starter")
    ap.add_argument("--requests", type=int, default=100)
    args = ap.parse_args()
    with studio(batching=True) as (base, cookies, csrf), \
            httpx.Client(base_url=base, cookies=cookies, headers={"X-CSRF-Token": csrf}, timeout=60) as c:
        t0 = time.perf_counter()
        k = len(c.get(f"/api/models/{args.model}/directions?k=8").raise_for_status().json()["directions"])
        first_ms = (time.perf_counter() - t0) * 1000
        times = []
        for i in range(args.requests):
            offsets = [((i % 21) - 10) / 2, 1.0, -0.5] + [0.0] * (k - 3)
            body = {"model": args.model, "seed": 7, "truncation": 1.0, "offsets": offsets[:k]}
            t0 = time.perf_counter()
            c.post("/api/explore", json=body).raise_for_status()
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    print(json.dumps({"bench": "explore_latency", "model": args.model, "requests": len(times),
                      "directions_first_call_ms": round(first_ms, 1), "p50_ms": round(statistics.median(times), 1),
                      "p95_ms": round(times[max(0, int(0.95 * len(times)) - 1)], 1), "max_ms": round(times[-1], 1)}))


if __name__ == "__main__":
    main()
