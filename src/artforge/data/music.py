"""A folder of MIDI files (or a built-in corpus) as training windows of melody, split by tune.

Every melodic part is cut into windows of `bars` bars that start on a bar line, `hop_bars` apart; a
window needs at least two onsets per bar on average and no silence longer than a bar. A note sounding
across a window's start is struck again there, so each window plays on its own. Tunes (not windows)
are split into train and validation by a hash of their name, so validation melodies come from tunes
the model never saw, and the split does not change when files are added.

>>> cfg = MusicDataConfig(path="builtin:folk", bars=2)
>>> cfg.steps
32
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..config import setting
from ..errors import DataError
from .check import BadFile, read_licence, require_folder, walk_folder
from .corpus import CORPORA, corpus_manifest_files, load_corpus
from .dataset import cache_root
from .melody import FIRST_PITCH_TOKEN, NO_EVENT, NOTE_OFF, STEPS_PER_BAR, transpose
from .midi import BadMidi, read_midi

MIDI_SUFFIXES = (".mid", ".midi", ".kar")
BARS = (2, 16)
MANIFEST_VERSION = 1


@dataclass
class MusicDataConfig:
    """Where the melodies are and how they become training windows (the `[data]` section of music runs)."""

    path: str = setting("builtin:folk", resume=True,  # may move on resume: the files' hashes are checked
                        help="a folder of .mid/.midi files, or builtin:folk | builtin:chorales")
    bars: int = setting(2, studio=True, min=2, max=16, flag="--bars", metavar="2|16",
                        help="melody length in bars (2: flat decoder, 16: hierarchical)")
    hop_bars: int = setting(1, studio=True, min=1, max=16, help="windows start this many bars apart")
    transpose: int = setting(5, studio=True, max=12, help="random transposition of up to +-N semitones when "
                                                          "batching (0 = off)")
    val_percent: float = setting(5.0, studio=True, max=99, help="tunes held out for validation (percent)")
    max_files: int = setting(0, studio=True, help="read only the first N files (quick tries); 0 = all")
    max_file_mb: float = 20.0       # larger MIDI files are skipped
    cache_dir: str = ""             # "" -> $ARTFORGE_CACHE_DIR, else ~/.cache/artforge

    @property
    def steps(self) -> int:
        return self.bars * STEPS_PER_BAR


def check_music_config(cfg: MusicDataConfig) -> None:
    if cfg.bars not in BARS:
        raise DataError(f"data.bars must be 2 or 16, got {cfg.bars!r}")
    if not 1 <= cfg.hop_bars <= cfg.bars:
        raise DataError(f"data.hop_bars must be from 1 to data.bars ({cfg.bars}), got {cfg.hop_bars!r}")
    if not 0 <= cfg.transpose <= 12:
        raise DataError(f"data.transpose must be from 0 to 12 semitones, got {cfg.transpose!r}")
    if not 0 <= cfg.val_percent < 100:
        raise DataError(f"data.val_percent must be from 0 to 100, got {cfg.val_percent!r}")


@dataclass
class MidiReport:
    """What was read: tunes (name -> events) and skipped files with the reason."""
    root: str
    tunes: list[tuple[str, np.ndarray]] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)      # usable files: path, sha256, bytes
    bad: list[BadFile] = field(default_factory=list)
    licence: str = "unknown"
    consent: str = "unknown"

    def summary(self, limit: int = 8) -> str:
        lines = [f"{self.root}: {len(self.files)} usable file(s), {len(self.tunes)} melodic part(s), "
                 f"{len(self.bad)} skipped"]
        lines += [f"  skipped {b.path}: {b.reason}" for b in self.bad[:limit]]
        if len(self.bad) > limit:
            lines.append(f"  ... and {len(self.bad) - limit} more")
        return "\n".join(lines)


def read_midi_folder(root: str | Path, cfg: MusicDataConfig) -> MidiReport:
    """Every MIDI file under `root` read into melodies, or skipped with a reason."""
    root = require_folder(root)
    found, bad = walk_folder(root)
    licence, consent = read_licence(root)
    report = MidiReport(str(root), bad=list(bad), licence=licence, consent=consent)
    if cfg.max_files > 0:
        found = found[:cfg.max_files]
    seen: dict[str, str] = {}
    for rel, p in found:
        if p.suffix.lower() not in MIDI_SUFFIXES:
            report.bad.append(BadFile(rel, "not a MIDI file (.mid, .midi)"))
            continue
        try:
            data = p.read_bytes()
        except OSError as e:
            report.bad.append(BadFile(rel, f"unreadable: {e.strerror or e}"))
            continue
        if len(data) > cfg.max_file_mb * 2**20:
            report.bad.append(BadFile(rel, f"file over max_file_mb ({len(data) / 2**20:.1f} MB)"))
            continue
        sha = hashlib.sha256(data).hexdigest()
        if sha in seen:
            report.bad.append(BadFile(rel, f"duplicate of {seen[sha]}"))
            continue
        try:
            melodies = read_midi(p)
        except BadMidi as e:
            report.bad.append(BadFile(rel, str(e)))
            continue
        seen[sha] = rel
        report.files.append({"path": rel, "sha256": sha, "bytes": len(data)})
        report.tunes += [(f"{rel}#{i}", ev) for i, ev in enumerate(melodies)]
    report.bad.sort(key=lambda b: b.path)
    return report


def windows(events: np.ndarray, bars: int, hop_bars: int = 1) -> list[np.ndarray]:
    """Playable windows of `bars` bars cut from one melody (see the module docstring for the rules)."""
    n = bars * STEPS_PER_BAR
    out = []
    for start in range(0, len(events) - n + 1, hop_bars * STEPS_PER_BAR):
        w = events[start:start + n].copy()
        if w[0] == NO_EVENT:  # a note sounding across the start is struck again, or it is silence
            held = events[:start][events[:start] != NO_EVENT]
            if len(held) and held[-1] >= FIRST_PITCH_TOKEN:
                w[0] = held[-1]
        if (w >= FIRST_PITCH_TOKEN).sum() >= 2 * bars and _longest_rest(w) <= STEPS_PER_BAR:
            out.append(w)
    return out


def _longest_rest(w: np.ndarray) -> int:
    longest, run, silent = 0, 0, True
    for tok in w.tolist():
        if tok >= FIRST_PITCH_TOKEN:
            silent, run = False, 0
        elif tok == NOTE_OFF or silent:
            silent = True
            run += 1
            longest = max(longest, run)
    return longest


def is_validation(name: str, val_percent: float) -> bool:
    """Whether a tune is held out: decided by its name alone, so adding tunes moves no other tune."""
    h = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")
    return (h % 10_000) < val_percent * 100


class MelodyDataset:
    """Windows as a (N, steps) int64 tensor; `batch` transposes each window at random when asked."""

    def __init__(self, windows: torch.Tensor, transpose_max: int, manifest: dict, report: MidiReport | None = None):
        self.windows = windows
        self.transpose_max = transpose_max
        self.manifest = manifest
        self.report = report
        self.manifest_sha256 = manifest_sha256(manifest)

    def __len__(self) -> int:
        return len(self.windows)

    def batch(self, indices, generator: torch.Generator) -> torch.Tensor:
        x = self.windows[torch.as_tensor(indices, dtype=torch.long)].clone()  # (B, T)
        if self.transpose_max > 0:
            shifts = torch.randint(-self.transpose_max, self.transpose_max + 1, (len(x),), generator=generator)
            for i, s in enumerate(shifts.tolist()):
                moved = transpose(x[i].numpy(), s) if s else None
                if moved is not None:
                    x[i] = torch.from_numpy(moved)
        return x


@dataclass
class MelodySplit:
    train: MelodyDataset
    val: torch.Tensor               # (M, steps) held-out windows, never transposed
    report: MidiReport


def load_melodies(cfg: MusicDataConfig, progress: bool = False) -> MelodySplit:
    """Read, window and split the melodies `cfg` names; DataError when nothing usable is left."""
    check_music_config(cfg)
    report = read_report(cfg, progress)
    train, val = [], []
    for name, ev in report.tunes:
        (val if is_validation(name, cfg.val_percent) else train).extend(windows(ev, cfg.bars, cfg.hop_bars))
    train = _unique(train)
    if not train:
        raise DataError(f"no usable {cfg.bars}-bar melodies in {report.root}: {len(report.tunes)} melodic part(s) "
                        f"from {len(report.files)} file(s), none long and busy enough; run `artforge data check "
                        f"{cfg.path}` to see each file's verdict")
    manifest = build_music_manifest(report, cfg, n_train=len(train), n_val=len(val))
    as_tensor = lambda ws: torch.from_numpy(np.stack(ws)) if ws else torch.zeros(0, cfg.steps, dtype=torch.int64)
    return MelodySplit(MelodyDataset(as_tensor(train), cfg.transpose, manifest, report), as_tensor(val), report)


def read_report(cfg: MusicDataConfig, progress: bool = False, require: bool = True) -> MidiReport:
    """The melodies of a folder or built-in corpus; with `require`, DataError when no file is usable."""
    if not str(cfg.path).strip():
        raise DataError("data.path is empty; give a folder of MIDI files, or builtin:folk / builtin:chorales")
    if str(cfg.path).startswith("builtin"):
        name = str(cfg.path).partition(":")[2] or "folk"
        if name not in CORPORA:
            raise DataError(f"unknown built-in corpus '{cfg.path}'; choose builtin:{' or builtin:'.join(CORPORA)}")
        root = cache_root(cfg)  # type: ignore[arg-type]  (any config with cache_dir)
        files = corpus_manifest_files(name)
        if cfg.max_files > 0:
            files = files[:cfg.max_files]
        tunes = load_corpus(name, root, progress, cfg.max_files)
        return MidiReport(f"builtin:{name}", tunes, files, licence="public domain (music21 corpus)",
                          consent="n/a (historical collections)")
    report = read_midi_folder(cfg.path, cfg)
    if require and not report.files:
        kinds = sorted({b.reason.split(" (")[0] for b in report.bad})[:3]
        raise DataError(f"no usable MIDI files in {report.root}: {len(report.bad)} file(s) skipped "
                        f"({'; '.join(kinds) or 'the folder is empty'}); run `artforge data check {cfg.path}` "
                        "to see each file's reason")
    return report


def all_windows(report: MidiReport, bars: int, hop_bars: int = 1) -> torch.Tensor:
    """Every distinct window of every tune, whichever side of the split it falls on: (N, bars * 16) int64."""
    ws = _unique([w for _, ev in report.tunes for w in windows(ev, bars, hop_bars)])
    return torch.from_numpy(np.stack(ws)) if ws else torch.zeros(0, bars * STEPS_PER_BAR, dtype=torch.int64)


def count_windows(report: MidiReport, bars: int, hop_bars: int = 1) -> int:
    return sum(len(windows(ev, bars, hop_bars)) for _, ev in report.tunes)


def _unique(ws: list[np.ndarray]) -> list[np.ndarray]:
    seen, out = set(), []
    for w in ws:
        key = w.tobytes()
        if key not in seen:
            seen.add(key)
            out.append(w)
    return out


def build_music_manifest(report: MidiReport, cfg: MusicDataConfig, n_train: int, n_val: int) -> dict:
    return {
        "manifest_version": MANIFEST_VERSION,
        "kind": "midi",
        "root": report.root,
        "licence": report.licence,
        "consent": report.consent,
        "preprocessing": {"bars": cfg.bars, "hop_bars": cfg.hop_bars, "steps_per_bar": STEPS_PER_BAR,
                          "val_percent": cfg.val_percent, "max_files": cfg.max_files},
        "counts": {"files": len(report.files), "skipped": len(report.bad), "parts": len(report.tunes),
                   "train_windows": n_train, "val_windows": n_val},
        "files": report.files,
        "skipped": [{"path": b.path, "reason": b.reason} for b in report.bad],
    }


def manifest_sha256(manifest: dict) -> str:
    core = {"files": manifest["files"], "preprocessing": manifest["preprocessing"]}
    return hashlib.sha256(json.dumps(core, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
