"""What `artforge eval` writes: `eval/report.md` with the figures, the copy-check panel and KID over steps."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from ..io.atomic import atomic_save, atomic_write_text
from ..io.images import make_grid, save_png
from .evaluate import EvalResult
from .memorization import describe

TILE_PX = 96


def _tile(img: torch.Tensor, caption: str, colour: str) -> Image.Image:
    pic = Image.fromarray(img.permute(1, 2, 0).numpy()).resize((TILE_PX, TILE_PX), Image.NEAREST)
    tile = Image.new("RGB", (TILE_PX + 4, TILE_PX + 18), colour)
    tile.paste(pic, (2, 2))
    ImageDraw.Draw(tile).text((4, TILE_PX + 4), caption, fill="white")
    return tile


def memorization_panel(result: EvalResult, rows: int = 8) -> Image.Image:
    """One row per sample, closest to the data first: the sample | its 3 nearest training images.

    Under each training image: cosine distance of features (d) and, for the first, the 16 px RMS distance
    (px). Flagged samples have a red frame.
    """
    m, ref = result.matches, result.reference
    order = torch.argsort(m.feat_dist[:, 0])[:rows]
    k = m.feat_idx.shape[1]
    w, h = (TILE_PX + 4) * (k + 1) + 12, (TILE_PX + 18) * len(order)
    panel = Image.new("RGB", (w, h + 20), "#202020")
    ImageDraw.Draw(panel).text((4, 4), "sample | 3 nearest training images (d = feature cosine distance)",
                               fill="white")
    for r, i in enumerate(order.tolist()):
        y = 20 + r * (TILE_PX + 18)
        flagged = bool(m.flagged[i])
        panel.paste(_tile(result.samples[i], "COPY?" if flagged else f"sample {i}",
                          "#c02020" if flagged else "#404040"), (0, y))
        for j in range(k):
            cap = f"d={float(m.feat_dist[i, j]):.3f}" + (f" px={float(m.px_dist[i]):.3f}" if j == 0 else "")
            panel.paste(_tile(ref.images[int(m.feat_idx[i, j])], cap, "#404040"), ((TILE_PX + 4) * (j + 1) + 12, y))
    return panel


def read_kid_history(run_dir: Path) -> list[dict]:
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "KID_effnet" in rec:
            out.append(rec)
    return out


def plot_kid(history: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in history]
    kid = [r["KID_effnet"] * 1e3 for r in history]
    std = [r.get("KID_effnet_std", 0.0) * 1e3 for r in history]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.errorbar(steps, kid, yerr=std, marker="o", markersize=3, capsize=2)
    best = min(range(len(kid)), key=kid.__getitem__)
    ax.plot([steps[best]], [kid[best]], "r*", markersize=12, label=f"best: step {steps[best]}")
    ax.set_xlabel("step")
    ax.set_ylabel("KID_effnet x 1000 (lower is better)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    atomic_save(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)


def write_report(out_dir: Path, result: EvalResult, title: str, model_note: str = "",
                 history: list[dict] | None = None) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    f, mem = result.figures, result.memorization
    save_png(memorization_panel(result), out_dir / "memorization.png")
    grid = result.samples[:64].float() / 127.5 - 1
    save_png(make_grid(grid), out_dir / "samples.png")
    lines = [f"# {title}", "", model_note, "",
             "Figures on EfficientNet-Lite0 ImageNet features (pooled, 1280-d, images resized to 224 px). "
             "They are **not** FID/KID on Inception: compare them only with each other, at equal image counts.", "",
             "| figure | value | better |", "|---|---|---|",
             f"| FD_effnet | {f['FD_effnet']:.3f} | lower |",
             f"| KID_effnet x 10^3 | {f['KID_effnet'] * 1e3:.3f} ± {f['KID_effnet_std'] * 1e3:.3f} (std over 100 subsets) | lower |",
             f"| precision (k=3) | {f['precision']:.3f} | higher: samples look like the data |",
             f"| recall (k=3) | {f['recall']:.3f} | higher: the data's variety is covered |",
             f"| density (k=5) | {f['density']:.3f} | ~1 |",
             f"| coverage (k=5) | {f['coverage']:.3f} | higher |",
             f"| images | {f['n_generated']} generated, {f['n_reference']} reference | |", "",
             f"Reliability: {f['reliability']}.", "",
             "## Copies of training images", "",
             f"{mem['flagged']} of {mem['checked']} samples flagged ({mem['fraction_flagged']:.1%}). "
             f"Rule: {describe(result.reference.index)}; the thresholds come from the training set's own "
             "leave-one-out nearest-neighbour distances.", "",
             "![sample | 3 nearest training images](memorization.png)", "",
             "## Samples", "", "![samples](samples.png)", ""]
    if history:
        plot_kid(history, out_dir / "kid.png")
        lines += ["## KID_effnet during training", "", "![KID over steps](kid.png)", ""]
    path = out_dir / "report.md"
    atomic_write_text(path, "\n".join(lines))
    atomic_write_text(out_dir / "report.json", json.dumps(result.to_json(), indent=2) + "\n")
    return path
