"""The quality target: the default GAN against DCGAN under the same CPU budget, side by side.

Train (each run gets 30 minutes of process CPU time on one thread). Run two at a time, one per core of
the 2-core machine: with four at once each step's CPU time grew by ~45% (cache and scheduler
contention), which the budget then counts against the run.

    python bench/datasets/emoji.py /tmp/q/emoji-data        # needs apt-get install fonts-noto-color-emoji
    for d in builtin /tmp/q/emoji-data; do for m in default dcgan; do
      artforge train gan $d --run /tmp/q/$(basename $d)-$m --config configs/gan/$m.toml --quiet \
        train.steps=1000000 train.budget_minutes=30 train.budget_clock=cpu train.threads=1 \
        eval.kid_every=0 train.sample_every=2000 &
    done; wait; done

Then compare (JSON lines: one per run, then one ratio per dataset; writes a side-by-side PNG):

    python bench/gan_quality.py --pair builtin /tmp/q/builtin-default /tmp/q/builtin-dcgan \\
        --pair emoji /tmp/q/emoji-data-default /tmp/q/emoji-data-dcgan --out docs/images/quality.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from artforge.features import FeatureExtractor, load_feature_net
from artforge.io.images import make_grid
from artforge.cli.evaluate import evaluate_model


def run_info(run: Path) -> dict:
    recs = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if x.strip()]
    last = [r for r in recs if "cpu_s" in r][-1]
    return {"steps": last["step"], "cpu_minutes": round(last["cpu_s"] / 60, 1), "kimg": last["kimg"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pair", nargs=3, action="append", metavar=("NAME", "DEFAULT_RUN", "DCGAN_RUN"), required=True)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=Path("quality.png"))
    args = ap.parse_args()
    fx = FeatureExtractor(load_feature_net())
    rows = []
    for name, default_run, dcgan_run in args.pair:
        figs = {}
        for label, run in (("default", Path(default_run)), ("dcgan", Path(dcgan_run))):
            result, *_ = evaluate_model(str(run), fx, args.n, last=True, log=lambda s: None)
            f = result.figures
            figs[label] = f
            print(json.dumps({"bench": "gan_quality", "data": name, "model": label, **run_info(run),
                              **{k: round(v, 5) if isinstance(v, float) else v for k, v in f.items()
                                 if k != "reliability"},
                              "copies_flagged": result.memorization["fraction_flagged"]}))
            rows.append((f"{name} / {label}: KID_effnet x1000 = {f['KID_effnet'] * 1e3:.1f} "
                         f"± {f['KID_effnet_std'] * 1e3:.1f}", result.samples[:16]))
        ratio = figs["default"]["KID_effnet"] / figs["dcgan"]["KID_effnet"]
        print(json.dumps({"bench": "gan_quality_ratio", "data": name, "kid_default_over_dcgan": round(ratio, 3),
                          "target": "<= 0.5", "met": ratio <= 0.5}))
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


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
