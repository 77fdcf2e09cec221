"""The built-in melody corpora, read offline from the files that ship inside the `music21` package.

`builtin:folk`      the folk-tune collections (Essen folk songs, Ryan's Mammoth Collection, O'Neill's
                    1850, the Nottingham and miscellaneous folk sets), about 11,000 tunes in ABC
`builtin:chorales`  the Bach chorales (their soprano lines), about 400 in MusicXML

Parsing them with music21 takes a few minutes once, so the melodies are cached under
`<cache root>/music/<corpus>-<music21 version>-v<CORPUS_VERSION>.safetensors` (+ .json with the tune names).
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from ..errors import DataError
from ..io.atomic import atomic_save, atomic_write_text
from .melody import STEPS_PER_QUARTER, Note, notes_to_events

CORPUS_VERSION = 1
CORPORA = {
    "folk": ("essenFolksong", "ryansMammoth", "oneills1850", "nottingham-dataset", "miscFolk"),
    "chorales": ("bach",),
}
SUFFIXES = (".abc", ".xml", ".mxl", ".krn")


def corpus_root() -> Path:
    try:
        import music21
    except ImportError:
        raise DataError("the built-in melodies come with the music21 package: pip install music21") from None
    return Path(music21.__file__).parent / "corpus"


def corpus_files(name: str) -> list[Path]:
    """The corpus's files in sorted order; DataError for an unknown name."""
    if name not in CORPORA:
        raise DataError(f"unknown built-in corpus 'builtin:{name}'; choose builtin:{' or builtin:'.join(CORPORA)}")
    root = corpus_root()
    files = [p for d in CORPORA[name] for p in sorted((root / d).rglob("*")) if p.suffix.lower() in SUFFIXES]
    if name == "chorales":  # the chorales folder also holds other Bach works; keep the four-part chorales
        files = [p for p in files if p.name.startswith("bwv") and "." in p.stem]
    if not files:
        raise DataError(f"the music21 package at {root} holds no files for builtin:{name}; reinstall music21")
    return files


def corpus_manifest_files(name: str) -> list[dict]:
    """(path, sha256, bytes) of every corpus file: what the manifest records and the cache key hashes."""
    root = corpus_root()
    out = []
    for p in corpus_files(name):
        data = p.read_bytes()
        out.append({"path": p.relative_to(root).as_posix(), "sha256": hashlib.sha256(data).hexdigest(),
                    "bytes": len(data)})
    return out


def load_corpus(name: str, cache_dir: Path, progress: bool = True, max_files: int = 0) -> list[tuple[str, np.ndarray]]:
    """[(tune name, events)] for a built-in corpus, parsed once and cached. `max_files` > 0 reads only
    the first files (quick tries and tests); that subset is cached on its own."""
    import music21

    files = corpus_files(name)
    if max_files > 0:
        files = files[:max_files]
    stem = f"{name}-{music21.__version__}-v{CORPUS_VERSION}" + (f"-first{max_files}" if max_files > 0 else "")
    store = Path(cache_dir) / "music"
    cached = _read(store, stem)
    if cached is not None:
        return cached
    root = corpus_root()
    tunes: list[tuple[str, np.ndarray]] = []
    workers = max(1, min(len(files), os.cpu_count() or 1))
    with ProcessPoolExecutor(workers) as pool:
        results = pool.map(_parse_file, [str(p) for p in files], chunksize=4)
        for path, found in tqdm(zip(files, results), total=len(files), disable=not progress, unit="file",
                                desc=f"reading builtin:{name} (once)"):
            rel = path.relative_to(root).as_posix()
            tunes += [(f"{rel}#{i}:{title}", ev) for i, title, ev in found]
    if not tunes:
        raise DataError(f"no melodies could be read from builtin:{name}")
    _write(store, stem, tunes)
    return tunes


def _parse_file(path: str) -> list[tuple[int, str, np.ndarray]]:
    """(index, title, events) of every tune in one corpus file; tunes music21 cannot read are left out."""
    import warnings

    from music21 import converter, stream

    warnings.filterwarnings("ignore")
    try:
        parsed = converter.parse(path)
    except Exception:  # music21 raises many kinds of errors on odd corpus entries; a file is skipped whole
        return []
    scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    out = []
    for i, score in enumerate(scores):
        try:
            notes = _top_line(score)
        except Exception:
            continue
        ev = notes_to_events(notes)
        if (ev >= 2).sum() >= 4:
            title = (score.metadata.title if score.metadata and score.metadata.title else "") or ""
            out.append((i, title.strip()[:80], ev.astype(np.int8)))
    return out


def _top_line(score) -> list[Note]:
    """The first part's notes (the melody of a tune, the soprano of a chorale); chords give their top."""
    from music21 import chord, harmony, note

    part = score.parts[0] if getattr(score, "parts", None) else score
    out = []
    for n in part.stripTies().flatten().notes:
        if isinstance(n, harmony.ChordSymbol):
            continue
        pitch = max(p.midi for p in n.pitches) if isinstance(n, chord.Chord) else n.pitch.midi if isinstance(n, note.Note) else None
        if pitch is None:
            continue
        start = int(round(float(n.offset) * STEPS_PER_QUARTER))
        end = int(round((float(n.offset) + float(n.quarterLength)) * STEPS_PER_QUARTER))
        out.append(Note(pitch, start, end))
    return out


def _write(store: Path, stem: str, tunes: list[tuple[str, np.ndarray]]) -> None:
    store.mkdir(parents=True, exist_ok=True)
    lengths = torch.tensor([len(ev) for _, ev in tunes], dtype=torch.int64)
    events = torch.from_numpy(np.concatenate([ev for _, ev in tunes]).astype(np.int8))
    atomic_save(store / f"{stem}.safetensors", lambda tmp: save_file({"events": events, "lengths": lengths}, str(tmp)))
    atomic_write_text(store / f"{stem}.json", json.dumps({"names": [n for n, _ in tunes]}) + "\n")


def _read(store: Path, stem: str) -> list[tuple[str, np.ndarray]] | None:
    try:
        t = load_file(str(store / f"{stem}.safetensors"))
        names = json.loads((store / f"{stem}.json").read_text(encoding="utf-8"))["names"]
    except (OSError, ValueError, KeyError):
        return None
    lengths = t["lengths"].tolist()
    if len(names) != len(lengths) or sum(lengths) != len(t["events"]):
        return None
    events = t["events"].numpy().astype(np.int64)
    offsets = np.cumsum([0] + lengths)
    return [(names[i], events[offsets[i]:offsets[i + 1]]) for i in range(len(names))]
