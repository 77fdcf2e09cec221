"""A folder of MIDI tunes the shipped melody models never trained on, and how they score on it (JSON lines).

The tunes are the first book of Aird's "Selection of Scotch, English, Irish and Foreign Airs" (1778),
which ships with music21 (`corpus/airdsAirs/`) but is not one of the collections of `builtin:folk`
(data/corpus.py CORPORA). They are read with the same code as the built-in corpora (top line, 16th-note
grid) and written one tune per MIDI file. Folk tunes share phrases across collections, so the script
also counts how many of their windows occur note for note among the training windows.

    python bench/music_out_of_corpus.py --out /tmp/airds     # then, for each model:
    artforge eval starter:melody-2bar --data /tmp/airds --n 1000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from artforge.data.corpus import _parse_file, corpus_root
from artforge.data.music import MusicDataConfig, all_windows, load_melodies, read_report
from artforge.io.midi import write_midi

SOURCE = "airdsAirs/book1.abc"


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def build(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    tunes = _parse_file(str(corpus_root() / SOURCE))
    for i, title, ev in tunes:
        write_midi([ev.astype("int64")], out / f"aird-book1-{i:03d}.mid", tempo_bpm=100, track_names=[title or "air"])
    return len(tunes)


def overlap(out: Path, bars: int) -> dict:
    """How many of the folder's windows are also training windows of builtin:folk, note for note."""
    ours = all_windows(read_report(MusicDataConfig(path=str(out), bars=bars)), bars)
    train = load_melodies(MusicDataConfig(bars=bars)).train.windows
    seen = {w.numpy().tobytes() for w in train}
    return {"bars": bars, "windows": len(ours), "also_in_training": sum(w.numpy().tobytes() in seen for w in ours)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/airds")
    ap.add_argument("--n", type=int, default=1000, help="samples for eval's copy check")
    ap.add_argument("--no-eval", action="store_true")
    args = ap.parse_args()
    out = Path(args.out)
    emit(section="tunes", source=SOURCE, tunes=build(out), folder=str(out))
    for model, bars in (("starter:melody-2bar", 2), ("starter:melody-16bar", 16)):
        emit(section="overlap", model=model, **overlap(out, bars))
        if not args.no_eval:
            res = subprocess.run([sys.executable, "-m", "artforge", "eval", model, "--data", str(out), "--n",
                                  str(args.n), "--out", str(out.parent / f"{out.name}-eval-{bars}"), "--json"],
                                 capture_output=True, text=True, check=True)
            emit(section="eval", model=model, **json.loads(res.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
