"""The built-in melody corpora: the folk-tune and chorale collections that ship inside the `music21` package.

`builtin:folk`      the folk-tune collections (Essen folk songs, Ryan's Mammoth Collection, O'Neill's
                    1850, the Nottingham and miscellaneous folk sets), about 11,700 tunes in ABC
`builtin:chorales`  the Bach chorales (their soprano lines), about 400 in MusicXML

Parsing them with music21 takes CPU-hours (music21's ABC reader needs about half a second per tune),
so artforge ships them already parsed (`assets/music/corpus/NAME.npz`: every tune's events, its name and
the list of source files with their SHA-256; public domain, built by `python bench/build_corpus.py`).
A shipped corpus needs no music21 at all and is the same on every install. A corpus that is not shipped
is parsed in parallel with a progress bar whose ETA counts bytes (the files differ 300-fold in size),
and every file's melodies are cached as soon as it is parsed, under
`<cache root>/music/parts-<music21 version>-v<CORPUS_VERSION>/<file sha256>.safetensors`, so an
interrupted parse resumes where it stopped; the whole corpus is then kept in one file beside them.

>>> tunes = load_corpus("folk", Path("/tmp"), progress=False, max_files=1)   # doctest: +SKIP
>>> tunes[0][0]                                                              # doctest: +SKIP
'essenFolksong/altdeu10.abc#0:Das Gotteslamm'
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from concurrent.futures import ProcessPoolExecutor, as_completed
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
SHIPPED_DIR = Path(__file__).resolve().parents[1] / "assets" / "music" / "corpus"
FILE_COST_BYTES = 1500   # each file costs about this many bytes' parsing on top of its size (the ETA's model)

Tunes = list[tuple[str, np.ndarray]]


def corpus_root() -> Path:
    try:
        import music21
    except ImportError:
        raise DataError("the built-in melodies come with the music21 package: pip install music21") from None
    return Path(music21.__file__).parent / "corpus"


def corpus_files(name: str) -> list[Path]:
    """The corpus's files in sorted order; DataError for an unknown name."""
    _known(name)
    root = corpus_root()
    files = [p for d in CORPORA[name] for p in sorted((root / d).rglob("*")) if p.suffix.lower() in SUFFIXES]
    if name == "chorales":  # the chorales folder also holds other Bach works; keep the four-part chorales
        files = [p for p in files if p.name.startswith("bwv") and "." in p.stem]
    if not files:
        raise DataError(f"the music21 package at {root} holds no files for builtin:{name}; reinstall music21")
    return files


def _known(name: str) -> None:
    if name not in CORPORA:
        raise DataError(f"unknown built-in corpus 'builtin:{name}'; choose builtin:{' or builtin:'.join(CORPORA)}")


def source_manifest_files(name: str) -> list[dict]:
    """(path, sha256, bytes) of every corpus file in the installed music21 package."""
    root = corpus_root()
    out = []
    for p in corpus_files(name):
        data = p.read_bytes()
        out.append({"path": p.relative_to(root).as_posix(), "sha256": hashlib.sha256(data).hexdigest(),
                    "bytes": len(data)})
    return out


def corpus_manifest_files(name: str) -> list[dict]:
    """(path, sha256, bytes) of every corpus file: what the manifest records. A shipped corpus lists the
    files it was parsed from, so its manifest (and a model's dataset hash) is the same on every install."""
    _known(name)
    shipped = read_shipped(name)
    return shipped[1] if shipped is not None else source_manifest_files(name)


def load_corpus(name: str, cache_dir: Path, progress: bool = True, max_files: int = 0, workers: int = 0) -> Tunes:
    """[(tune name, events)] for a built-in corpus: the shipped parse, or parsed once and cached.
    `max_files` > 0 keeps only the tunes of the first files (quick tries and tests)."""
    _known(name)
    shipped = read_shipped(name)
    if shipped is not None:
        tunes, files = shipped
        if max_files > 0:
            keep = {f["path"] for f in files[:max_files]}
            tunes = [(n, ev) for n, ev in tunes if n.partition("#")[0] in keep]
        return tunes
    return parse_corpus(name, cache_dir, progress, max_files, workers)


def parse_corpus(name: str, cache_dir: Path, progress: bool = True, max_files: int = 0, workers: int = 0) -> Tunes:
    """The corpus parsed from the installed music21 package, through the per-file and whole-corpus caches."""
    import music21

    files = corpus_files(name)
    if max_files > 0:
        files = files[:max_files]
    stem = f"{name}-{music21.__version__}-v{CORPUS_VERSION}" + (f"-first{max_files}" if max_files > 0 else "")
    store = Path(cache_dir) / "music"
    cached = _read(store, stem)
    if cached is not None:
        return cached
    parts = store / f"parts-{music21.__version__}-v{CORPUS_VERSION}"
    found = parse_files(files, parts, progress, workers, desc=f"reading builtin:{name} (once)")
    root = corpus_root()
    tunes = [(f"{p.relative_to(root).as_posix()}#{i}:{title}", ev) for p, res in zip(files, found)
             for i, title, ev in res]
    if not tunes:
        raise DataError(f"no melodies could be read from builtin:{name}")
    _write(store, stem, tunes)
    return tunes


def parse_files(files: list[Path], parts: Path, progress: bool = True, workers: int = 0,
                desc: str = "reading") -> list[list[tuple[int, str, np.ndarray]]]:
    """`_parse_file` of every file, in the order given; each file's result is cached (by its SHA-256)
    the moment it is parsed, so an interrupted run loses at most the files in flight."""
    shas = [hashlib.sha256(p.read_bytes()).hexdigest() for p in files]
    results: dict[int, list] = {}
    for k, sha in enumerate(shas):
        part = _read_part(parts / f"{sha}.safetensors")
        if part is not None:
            results[k] = part
    todo = sorted((k for k in range(len(files)) if k not in results), key=lambda k: -files[k].stat().st_size)
    if todo:
        cost = {k: files[k].stat().st_size + FILE_COST_BYTES for k in todo}
        workers = max(1, min(len(todo), workers or len(os.sched_getaffinity(0))))
        bar = tqdm(total=sum(cost.values()), disable=not progress, unit="B", unit_scale=True, desc=desc,
                   postfix=f"{len(results)}/{len(files)} files")
        parts.mkdir(parents=True, exist_ok=True)
        with bar, ProcessPoolExecutor(workers) as pool:   # biggest first: the workers end together
            pending = {pool.submit(_parse_file, str(files[k])): k for k in todo}
            for fut in as_completed(pending):
                k = pending[fut]
                results[k] = fut.result()
                _write_part(parts / f"{shas[k]}.safetensors", results[k])
                bar.set_postfix_str(f"{len(results)}/{len(files)} files", refresh=False)
                bar.update(cost[k])
    return [results[k] for k in range(len(files))]


def _parse_file(path: str) -> list[tuple[int, str, np.ndarray]]:
    """(index, title, events) of every tune in one corpus file; tunes music21 cannot read are left out."""
    import warnings

    from music21 import converter, stream

    warnings.filterwarnings("ignore")
    # Two things music21 does that we never use, and that take two thirds of its reading time: beaming
    # (which notes are drawn joined: notation only, never a pitch or a time) and a pickle of every file
    # written to its scratch folder and read back (we read each file once). Same tunes either way.
    make_beams = stream.Stream.makeBeams
    stream.Stream.makeBeams = _no_beams
    try:
        parsed = converter.parse(path, forceSource=True, storePickle=False)
    except Exception:  # music21 raises many kinds of errors on odd corpus entries; a file is skipped whole
        return []
    finally:
        stream.Stream.makeBeams = make_beams
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


def _no_beams(self, *args, **kwargs):
    return None


def _top_line(score) -> list[Note]:
    """The first part's notes (the melody of a tune, the soprano of a chorale); chords give their top."""
    from music21 import chord, harmony, note

    part = score.parts[0] if getattr(score, "parts", None) else score
    part.stripTies(inPlace=True)     # the parsed score is ours to change: no deep copy (a third of the time)
    out = []
    for n in part.flatten().notes:
        if isinstance(n, harmony.ChordSymbol):
            continue
        pitch = max(p.midi for p in n.pitches) if isinstance(n, chord.Chord) else n.pitch.midi if isinstance(n, note.Note) else None
        if pitch is None:
            continue
        start = int(round(float(n.offset) * STEPS_PER_QUARTER))
        end = int(round((float(n.offset) + float(n.quarterLength)) * STEPS_PER_QUARTER))
        out.append(Note(pitch, start, end))
    return out


# -- the per-file cache ------------------------------------------------------------------------------

def _write_part(path: Path, found: list[tuple[int, str, np.ndarray]]) -> None:
    events = np.concatenate([ev for _, _, ev in found]) if found else np.zeros(0, np.int8)
    tensors = {"events": torch.from_numpy(events.astype(np.int8)),
               "lengths": torch.tensor([len(ev) for _, _, ev in found], dtype=torch.int64)}
    meta = {"tunes": json.dumps([[i, title] for i, title, _ in found])}
    atomic_save(path, lambda tmp: save_file(tensors, str(tmp), metadata=meta))


def _read_part(path: Path) -> list[tuple[int, str, np.ndarray]] | None:
    """One file's cached melodies, or None when missing or damaged (then it is parsed again)."""
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            tunes = json.loads(f.metadata()["tunes"])
            events, lengths = f.get_tensor("events").numpy(), f.get_tensor("lengths").tolist()
    except Exception:  # missing, truncated or not ours: parse the file again
        return None
    if len(tunes) != len(lengths) or sum(lengths) != len(events):
        return None
    offsets = np.cumsum([0] + lengths)
    return [(int(i), str(t), events[offsets[k]:offsets[k + 1]].copy()) for k, (i, t) in enumerate(tunes)]


# -- the whole-corpus cache --------------------------------------------------------------------------

def _write(store: Path, stem: str, tunes: Tunes) -> None:
    store.mkdir(parents=True, exist_ok=True)
    lengths = torch.tensor([len(ev) for _, ev in tunes], dtype=torch.int64)
    events = torch.from_numpy(np.concatenate([ev for _, ev in tunes]).astype(np.int8))
    atomic_save(store / f"{stem}.safetensors", lambda tmp: save_file({"events": events, "lengths": lengths}, str(tmp)))
    atomic_write_text(store / f"{stem}.json", json.dumps({"names": [n for n, _ in tunes]}) + "\n")


def _read(store: Path, stem: str) -> Tunes | None:
    try:
        t = load_file(str(store / f"{stem}.safetensors"))
        names = json.loads((store / f"{stem}.json").read_text(encoding="utf-8"))["names"]
    except (OSError, ValueError, KeyError):
        return None
    return _split(t["events"].numpy(), t["lengths"].tolist(), names)


def _split(events: np.ndarray, lengths: list[int], names: list[str]) -> Tunes | None:
    if len(names) != len(lengths) or sum(lengths) != len(events):
        return None
    events = events.astype(np.int64)
    offsets = np.cumsum([0] + lengths)
    return [(names[i], events[offsets[i]:offsets[i + 1]]) for i in range(len(names))]


# -- the shipped corpora -----------------------------------------------------------------------------

def shipped_path(name: str) -> Path:
    return SHIPPED_DIR / f"{name}.npz"


def write_shipped(path: Path, tunes: Tunes, files: list[dict], music21_version: str) -> None:
    """The compact shipped form: int8 events, int32 lengths, names and source files as JSON (no pickle)."""
    info = {"corpus_version": CORPUS_VERSION, "music21": music21_version, "files": files,
            "names": [n for n, _ in tunes]}
    arrays = {"events": np.concatenate([ev for _, ev in tunes]).astype(np.int8),
              "lengths": np.array([len(ev) for _, ev in tunes], np.int32),
              "info": np.frombuffer(json.dumps(info, separators=(",", ":")).encode("utf-8"), np.uint8)}
    atomic_save(path, lambda tmp: _savez(tmp, arrays))


def _savez(tmp: Path, arrays: dict) -> None:
    with open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)


def read_shipped(name: str, path: Path | None = None) -> tuple[Tunes, list[dict]] | None:
    """(tunes, source files) of a shipped corpus, or None when this corpus does not ship."""
    path = path or shipped_path(name)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            events, lengths, info = z["events"], z["lengths"].tolist(), json.loads(z["info"].tobytes())
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        raise DataError(f"the shipped corpus {path} is damaged; reinstall artforge") from None
    tunes = _split(events, lengths, info["names"])
    if tunes is None or info.get("corpus_version") != CORPUS_VERSION:
        raise DataError(f"the shipped corpus {path} is damaged; reinstall artforge")
    return tunes, info["files"]
