"""Build the shipped, parsed built-in corpora (src/artforge/assets/music/corpus/NAME.npz) from music21.

Parses every file of the corpus with the same code `builtin:NAME` used before it shipped
(`data/corpus.py: _parse_file`), through the per-file cache (an interrupted build resumes), then writes
the compact file and prints one JSON line with its size and counts.

    python bench/build_corpus.py folk --cache /tmp/corpus-build --workers 2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import music21

from artforge.data.corpus import parse_corpus, read_shipped, shipped_path, source_manifest_files, write_shipped


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name", choices=("folk", "chorales"))
    ap.add_argument("--cache", default="/tmp/corpus-build", help="where the per-file parses are kept")
    ap.add_argument("--workers", type=int, default=0, help="parsing processes (default: every core)")
    ap.add_argument("--out", default=None, help="default: the package's assets/music/corpus/NAME.npz")
    args = ap.parse_args()
    t0 = time.perf_counter()
    tunes = parse_corpus(args.name, Path(args.cache), progress=True, workers=args.workers)
    out = Path(args.out) if args.out else shipped_path(args.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    files = source_manifest_files(args.name)
    write_shipped(out, tunes, files, music21.__version__)
    again, _ = read_shipped(args.name, out)
    assert [n for n, _ in again] == [n for n, _ in tunes]
    assert all((a == b).all() for (_, a), (_, b) in zip(again, tunes))
    print(json.dumps({"corpus": args.name, "music21": music21.__version__, "files": len(files),
                      "tunes": len(tunes), "steps": int(sum(len(ev) for _, ev in tunes)),
                      "bytes": out.stat().st_size, "seconds": round(time.perf_counter() - t0, 1), "out": str(out)}))


if __name__ == "__main__":
    main()
