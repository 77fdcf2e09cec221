"""Studio under load: N concurrent clients asking a running `artforge studio` for pictures (JSON lines).

Starts the studio twice in its own process on a free 127.0.0.1 port, each with a fresh data dir: once
with batching (requests arriving within a few ms share one forward pass) and once with `--no-batching`.
For each, `--clients` clients each send POST /api/generate (one image, its own seed, so every request
is a real new artwork: drawn, PNG-encoded, stored and recorded) as soon as their last answer came back,
for `--seconds` after a short warm-up. Prints one line per mode (requests/s, p50/p95/p99 latency in ms,
errors) and a last line with the ratio of requests/s, batched over unbatched.

    python bench/studio_load.py [--clients 16] [--seconds 20] [--model starter] [--copy-check]

The issue's target on a 2-core CPU with the starter model and 16 clients: 0 errors, p95 under 250 ms,
batching at least 3x the requests/s of unbatched. `--copy-check` turns the memorization guard on for every
request (the studio's default in its form; it adds a feature-network pass per image).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def studio(batching: bool):
    """(base URL, cookies, CSRF token) of a fresh studio signed in as its owner; stopped on exit."""
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        cmd = [sys.executable, "-m", "artforge", "studio", "--data-dir", data, "--port", str(port), "--quiet"]
        server = subprocess.Popen(cmd + ([] if batching else ["--no-batching"]), stdout=subprocess.PIPE, text=True)
        try:
            link = server.stdout.readline().split("link): ")[1].strip()
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=60) as c:
                for _ in range(300):
                    try:
                        c.get("/api/health")
                        break
                    except httpx.TransportError:
                        time.sleep(0.1)
                r = c.get(link.removeprefix(base), follow_redirects=False)
                if r.status_code != 303:
                    raise SystemExit(f"sign-in failed: {r.status_code} {r.text[:200]}")
                yield base, dict(c.cookies), c.cookies["artforge_csrf"]
        finally:
            server.terminate()
            server.wait(30)


async def client(base: str, cookies: dict, csrf: str, first_seed: int, stop_at: float, body: dict,
                 latencies: list[float], errors: list[str]) -> None:
    async with httpx.AsyncClient(base_url=base, cookies=cookies, headers={"X-CSRF-Token": csrf},
                                 timeout=60) as c:
        seed = first_seed
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            try:
                r = await c.post("/api/generate", json={**body, "seed": seed})
                ok = r.status_code == 201
                if not ok:
                    errors.append(f"{r.status_code}: {r.text[:120]}")
            except httpx.HTTPError as e:
                ok = False
                errors.append(type(e).__name__)
            if ok:
                latencies.append((time.perf_counter() - t0) * 1000)
            seed += 10_000


async def drive(base: str, cookies: dict, csrf: str, clients: int, seconds: float, body: dict) -> dict:
    warm_lat: list[float] = []
    warm_err: list[str] = []
    await asyncio.gather(*(client(base, cookies, csrf, 10**6 + i, time.perf_counter() + 2.0, body, warm_lat,
                                  warm_err) for i in range(clients)))
    latencies: list[float] = []
    errors: list[str] = []
    t0 = time.perf_counter()
    await asyncio.gather(*(client(base, cookies, csrf, i, t0 + seconds, body, latencies, errors)
                           for i in range(clients)))
    wall = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [float("nan")] * 99
    return {"requests": len(latencies), "errors": len(errors), "first_error": errors[0] if errors else None,
            "seconds": round(wall, 1), "rps": round(len(latencies) / wall, 1), "p50_ms": round(q[49], 1),
            "p95_ms": round(q[94], 1), "p99_ms": round(q[98], 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--model", default="starter")
    ap.add_argument("--copy-check", action="store_true", help="no_copies on for every request")
    args = ap.parse_args()
    body = {"model": args.model, "n": 1, "no_copies": args.copy_check}
    rps = {}
    for batching in (True, False):
        with studio(batching) as (base, cookies, csrf):
            res = asyncio.run(drive(base, cookies, csrf, args.clients, args.seconds, body))
        rps[batching] = res["rps"]
        print(json.dumps({"bench": "studio_load", "batching": batching, "clients": args.clients,
                          "model": args.model, "copy_check": args.copy_check, **res}), flush=True)
    print(json.dumps({"bench": "studio_load_ratio", "clients": args.clients,
                      "rps_batched_over_unbatched": round(rps[True] / rps[False], 2) if rps[False] else None}))


if __name__ == "__main__":
    main()
