"""The quality target: the default GAN against DCGAN under the same CPU budget, side by side.

Train (each run gets 30 minutes of process CPU time on one thread). Run two at a time, one per core of
the 2-core machine: with four at once each step's CPU time grew by ~45% (cache and scheduler
contention), which the budget then counts against the run. The KID monitor (every 1,000 steps, 256
samples) runs outside the timed step, so it costs the budget nothing and gives the curves below.

    python bench/datasets/emoji.py /tmp/q/emoji-data        # needs apt-get install fonts-noto-color-emoji
    for seed in 0 1; do for d in builtin /tmp/q/emoji-data; do for m in default dcgan; do
      artforge train gan $d --run /tmp/q/$(basename $d)-$m-s$seed --config configs/gan/$m.toml --quiet \\
        train.steps=1000000 train.budget_minutes=30 train.budget_clock=cpu train.threads=1 \\
        train.seed=$seed eval.kid_every=1000 train.sample_every=2000 &
    done; wait; done; done

Then compare. Each side of a pair is a comma-separated list of runs (one per seed). JSON lines: one per
run (its last model, 1,000 samples against the training images), then one per data set with the ratio of
the mean KIDs and the ratio of each seed's pair; writes a side-by-side PNG of samples (first seed) and,
with --curves, KID_effnet over CPU minutes for every run:

    python bench/gan_quality.py \\
        --pair builtin /tmp/q/builtin-default-s0,/tmp/q/builtin-default-s1 /tmp/q/builtin-dcgan-s0,/tmp/q/builtin-dcgan-s1 \\
        --pair emoji /tmp/q/emoji-data-default-s0,... /tmp/q/emoji-data-dcgan-s0,... \\
        --out docs/images/quality.png --curves docs/images/quality-kid.png
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from artforge.cli.evaluate import evaluate_model
from artforge.features import FeatureExtractor, load_feature_net
from artforge.io.images import make_grid
from artforge.metrics.report import read_kid_history


def records(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if x.strip()]


def run_info(run: Path) -> dict:
    last = [r for r in records(run) if "cpu_s" in r][-1]
    seed = json.loads((run / "train.json").read_text())["config"]["train"]["seed"]
    return {"seed": seed, "steps": last["step"], "cpu_minutes": round(last["cpu_s"] / 60, 1), "kimg": last["kimg"]}


def kid_curve(run: Path) -> tuple[list[float], list[float]]:
    """(CPU minutes, KID_effnet x1000) of the run's monitor, each step placed at the CPU time logged nearest it."""
    cpu = {r["step"]: r["cpu_s"] for r in records(run) if "cpu_s" in r}
    steps = sorted(cpu)
    xs, ys = [], []
    for rec in read_kid_history(run):
        nearest = min(steps, key=lambda s: abs(s - rec["step"]))
        xs.append(cpu[nearest] / 60)
        ys.append(rec["KID_effnet"] * 1e3)
    return xs, ys


def plot_curves(curves: dict[str, list[tuple[str, Path]]], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 3.5), squeeze=False)
    colours = {"default": "tab:blue", "dcgan": "tab:orange"}
    for ax, (name, runs) in zip(axes[0], curves.items()):
        for label, run in runs:
            xs, ys = kid_curve(run)
            ax.plot(xs, ys, marker="o", markersize=2, color=colours[label], alpha=0.8, label=f"{label} {run.name}")
        ax.set_title(f"{name}: KID_effnet (256 samples) during training")
        ax.set_xlabel("CPU minutes (one thread)")
        ax.set_ylabel("KID_effnet x 1000")
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pair", nargs=3, action="append", metavar=("NAME", "DEFAULT_RUNS", "DCGAN_RUNS"), required=True,
                    help="a data set's name, then comma-separated run folders of each model (one per seed)")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=Path("quality.png"))
    ap.add_argument("--curves", type=Path, help="also plot KID_effnet over CPU minutes of every run here")
    args = ap.parse_args()
    fx = FeatureExtractor(load_feature_net())
    rows, curves = [], {}
    for name, default_runs, dcgan_runs in args.pair:
        kids: dict[str, list[float]] = {}
        for label, runs in (("default", default_runs), ("dcgan", dcgan_runs)):
            for i, run in enumerate(Path(r) for r in runs.split(",")):
                result, *_ = evaluate_model(str(run), fx, args.n, last=True, log=lambda s: None)
                f = result.figures
                kids.setdefault(label, []).append(f["KID_effnet"])
                curves.setdefault(name, []).append((label, run))
                print(json.dumps({"bench": "gan_quality", "data": name, "model": label, "run": str(run),
                                  **run_info(run),
                                  **{k: round(v, 5) if isinstance(v, float) else v for k, v in f.items()
                                     if k != "reliability"},
                                  "copies_flagged": result.memorization["fraction_flagged"]}), flush=True)
                if i == 0:
                    rows.append((f"{name} / {label} ({run.name}): KID_effnet x1000 = {f['KID_effnet'] * 1e3:.1f} "
                                 f"± {f['KID_effnet_std'] * 1e3:.1f}", result.samples[:16]))
        mean = {k: statistics.fmean(v) for k, v in kids.items()}
        ratio = mean["default"] / mean["dcgan"]
        per_seed = [round(a / b, 3) for a, b in zip(kids["default"], kids["dcgan"])]
        print(json.dumps({"bench": "gan_quality_ratio", "data": name, "seeds": len(per_seed),
                          "kid_default_mean": round(mean["default"], 5), "kid_dcgan_mean": round(mean["dcgan"], 5),
                          "kid_default_over_dcgan": round(ratio, 3), "per_seed": per_seed,
                          "target": "<= 0.5", "met": ratio <= 0.5, "met_every_seed": max(per_seed) <= 0.5}))
    tiles = [make_grid(s.float() / 127.5 - 1, nrow=16) for _, s in rows]
    w = max(t.width for t in tiles)
    sheet = Image.new("RGB", (w, sum(t.height + 16 for t in tiles)), "white")
    y = 0
    for (caption, _), tile in zip(rows, tiles):
        ImageDraw.Draw(sheet).text((4, y + 2), caption, fill="black")
        sheet.paste(tile, (0, y + 16))
        y += tile.height + 16
    sheet.save(args.out)
    print(json.dumps({"bench": "gan_quality_sheet", "path": str(args.out)}))
    if args.curves:
        plot_curves(curves, args.curves)
        print(json.dumps({"bench": "gan_quality_curves", "path": str(args.curves)}))


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
