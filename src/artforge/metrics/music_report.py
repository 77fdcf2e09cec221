"""`artforge eval` for a music model: held-out reconstruction accuracy, copies among samples, a report.

Reconstruction is scored on the held-out tunes of the model's own data split (tunes the model never saw),
or on every tune of data the model was not trained on; samples are drawn at temperature 0.5 from seeds
SAMPLE_SEED+ and checked against the windows of the model's training data.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ..io.atomic import atomic_write_text
from ..io.pianoroll import piano_roll
from ..pipelines import MusicSamplePipeline
from ..pipelines.base import ModelHandle
from .melody import CopyIndex, reconstruction

SAMPLE_SEED = 1_000_000
SAMPLE_TEMPERATURE = 0.5


def evaluate_music(model: ModelHandle, melodies: torch.Tensor, train_windows: torch.Tensor, n_samples: int = 256,
                   max_val: int = 2000, threshold: float = 0.8, scope: str = "held-out") -> dict:
    """Figures for a music model: reconstruction accuracy on `melodies` (at most `max_val` of them, drawn
    at random), the fraction of samples that copy one of `train_windows`, counts; plus a few examples.
    `scope` says which melodies were scored (held-out, all-unseen or all-seen; see SCOPES)."""
    g = torch.Generator().manual_seed(1234)
    val = melodies[torch.randperm(len(melodies), generator=g)[:max_val]]
    figures: dict = {"bars": int(model.config["model"]["steps"]) // 16, "split": scope,
                     "melodies_scored": len(val), "melodies_available": len(melodies)}
    if scope == "held-out":
        figures["held_out_melodies"] = len(val)
    recon_examples = []
    if len(val):
        rec = reconstruction(model.module, val.to(model.device))
        figures.update(acc_teacher_forced=rec["acc_teacher_forced"], acc_sampled=rec["acc_sampled"])
        mu, _ = model.module.encode(val[:4].to(model.device))
        recon_examples = list(zip(val[:4].numpy(), model.module.decode(mu).cpu().numpy()))
    samples = MusicSamplePipeline(model).run(n_samples, SAMPLE_SEED, SAMPLE_TEMPERATURE, "", batch_size=64).melodies
    index = CopyIndex(train_windows.numpy(), threshold)
    checks = [index.check(s) for s in samples]
    figures.update(samples=n_samples, sample_temperature=SAMPLE_TEMPERATURE, copy_threshold=threshold,
                   copied=sum(c["copied"] for c in checks),
                   copied_fraction=sum(c["copied"] for c in checks) / max(n_samples, 1),
                   train_windows=len(train_windows))
    return {"figures": figures, "samples": samples[:8], "reconstructions": recon_examples}


SCOPES = {"held-out": "held-out melodies ({bars} bars, from tunes never trained on)",
          "all-unseen": "melodies scored ({bars} bars, every tune of data the model was not trained on)",
          "all-seen": "melodies scored ({bars} bars, every tune of the training data, trained on or held out)"}


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
    scored = f"{f['melodies_scored']}" + (f" of {f['melodies_available']} (drawn at random)"
                                          if f["melodies_available"] > f["melodies_scored"] else "")
    lines += [f"| {SCOPES[f['split']].format(bars=f['bars'])} | {scored} |",
              f"| samples that copy a training melody (note LCS >= {f['copy_threshold']:.0%}) | "
              f"{f['copied']} of {f['samples']} ({f['copied_fraction']:.1%}) |",
              f"| training windows the samples are checked against | {f['train_windows']} |", "",
              "![samples](samples.png)", ""]
    if result["reconstructions"]:
        rows, titles = [], []
        for i, (orig, rec) in enumerate(result["reconstructions"]):
            rows += [orig, rec]
            titles += [f"{'held-out ' if f['split'] == 'held-out' else ''}melody {i}", "  its reconstruction (sampled)"]
        piano_roll(rows, folder / "reconstructions.png", titles=titles)
        lines += ["![reconstructions](reconstructions.png)", ""]
    atomic_write_text(folder / "report.md", "\n".join(lines))
    atomic_write_text(folder / "report.json", json.dumps(f, indent=2) + "\n")
    return folder / "report.md"
