"""`artforge eval` for a music model: held-out reconstruction accuracy, copies among samples, a report.

Reconstruction uses the held-out tunes of the model's own data split (tunes the model never saw);
samples are drawn at temperature 0.5 from seeds SAMPLE_SEED+ and checked against the training windows.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ..data.music import MelodySplit
from ..io.atomic import atomic_write_text
from ..io.pianoroll import piano_roll
from ..pipelines import MusicSamplePipeline
from ..pipelines.base import ModelHandle
from .melody import CopyIndex, reconstruction

SAMPLE_SEED = 1_000_000
SAMPLE_TEMPERATURE = 0.5


def evaluate_music(model: ModelHandle, split: MelodySplit, n_samples: int = 256, max_val: int = 2000,
                   threshold: float = 0.8) -> dict:
    """Figures for a music model on its data: accuracies, copy fraction, counts; plus a few examples."""
    g = torch.Generator().manual_seed(1234)
    val = split.val[torch.randperm(len(split.val), generator=g)[:max_val]]
    figures: dict = {"bars": int(model.config["model"]["steps"]) // 16, "held_out_melodies": len(val)}
    recon_examples = []
    if len(val):
        rec = reconstruction(model.module, val.to(model.device))
        figures.update(acc_teacher_forced=rec["acc_teacher_forced"], acc_sampled=rec["acc_sampled"])
        mu, _ = model.module.encode(val[:4].to(model.device))
        recon_examples = list(zip(val[:4].numpy(), model.module.decode(mu).cpu().numpy()))
    samples = MusicSamplePipeline(model).run(n_samples, SAMPLE_SEED, SAMPLE_TEMPERATURE, "", batch_size=64).melodies
    index = CopyIndex(split.train.windows.numpy(), threshold)
    checks = [index.check(s) for s in samples]
    figures.update(samples=n_samples, sample_temperature=SAMPLE_TEMPERATURE, copy_threshold=threshold,
                   copied=sum(c["copied"] for c in checks),
                   copied_fraction=sum(c["copied"] for c in checks) / max(n_samples, 1),
                   train_windows=len(split.train))
    return {"figures": figures, "samples": samples[:8], "reconstructions": recon_examples}


def write_music_report(folder: Path, result: dict, title: str, note: str) -> Path:
    """report.md + report.json + samples.png (+ reconstructions.png) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    f = result["figures"]
    piano_roll(result["samples"], folder / "samples.png",
               titles=[f"sample {SAMPLE_SEED + i} (temperature {SAMPLE_TEMPERATURE})" for i in range(len(result["samples"]))])
    lines = [f"# {title}", "", note, "", "| figure | value |", "|---|---|"]
    if "acc_teacher_forced" in f:
        lines += [f"| reconstruction accuracy, teacher-forced | {f['acc_teacher_forced']:.4f} |",
                  f"| reconstruction accuracy, sampled (argmax) | {f['acc_sampled']:.4f} |"]
    lines += [f"| held-out melodies ({f['bars']} bars, from tunes never trained on) | {f['held_out_melodies']} |",
              f"| samples that copy a training melody (note LCS >= {f['copy_threshold']:.0%}) | "
              f"{f['copied']} of {f['samples']} ({f['copied_fraction']:.1%}) |",
              f"| training windows | {f['train_windows']} |", "", "![samples](samples.png)", ""]
    if result["reconstructions"]:
        rows, titles = [], []
        for i, (orig, rec) in enumerate(result["reconstructions"]):
            rows += [orig, rec]
            titles += [f"held-out melody {i}", "  its reconstruction (sampled)"]
        piano_roll(rows, folder / "reconstructions.png", titles=titles)
        lines += ["![reconstructions](reconstructions.png)", ""]
    atomic_write_text(folder / "report.md", "\n".join(lines))
    atomic_write_text(folder / "report.json", json.dumps(f, indent=2) + "\n")
    return folder / "report.md"
