"""`artforge data check DIR`: say which files of a data folder can be trained on, and why not.

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="artforge")
>>> register(parser.add_subparsers(dest="verb"), [])
>>> args = parser.parse_args(["data", "check", "my-art", "--json"])
>>> args.dir, args.json, args.func.__name__
('my-art', True, 'run_check')
"""

from __future__ import annotations

import argparse
import json

from ..data import DataConfig, check_folder, resolve_data_path
from ..data.check import check_config, require_usable
from ..data.images import CROPS
from .params import show_progress


def register(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    """Add the `data` verb (with its `check` sub-verb) to the CLI's subparsers."""
    defaults = DataConfig()
    data = sub.add_parser("data", help="inspect a folder of training images", parents=parents)
    verbs = data.add_subparsers(dest="data_verb", metavar="{check}", required=True)
    p = verbs.add_parser(
        "check",
        parents=parents,
        help="list usable, skipped and duplicate images in a folder",
        description="Decode every file under DIR and report which images are usable, which are skipped "
        "(with the reason) and which are exact duplicates. Exits non-zero when none is usable.",
    )
    p.add_argument("dir", metavar="DIR", help="a folder of images or MIDI files, 'builtin', builtin:folk, ...")
    p.add_argument("--kind", choices=("auto", "images", "midi"), default="auto",
                   help="what the folder holds (default: auto, MIDI when most files are .mid/.midi)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")
    p.add_argument(
        "--resolution", type=int, default=defaults.resolution, help="training size in px (default: %(default)s)"
    )
    p.add_argument("--crop", choices=CROPS, default=defaults.crop, help="non-square policy (default: %(default)s)")
    p.add_argument(
        "--background", default=defaults.background, help="colour under transparency (default: %(default)s)"
    )
    p.add_argument(
        "--max-pixels", type=int, default=defaults.max_pixels, help="skip images with more pixels (default: %(default)s)"
    )
    p.set_defaults(func=run_check)


def _is_midi_folder(args: argparse.Namespace) -> bool:
    from pathlib import Path

    from ..data.check import walk_folder
    from ..data.music import MIDI_SUFFIXES

    if args.kind != "auto":
        return args.kind == "midi"
    if str(args.dir).startswith("builtin:"):
        return True
    if not Path(args.dir).is_dir():
        return False
    found, _ = walk_folder(Path(args.dir).resolve())
    n_midi = sum(1 for rel, _ in found if Path(rel).suffix.lower() in MIDI_SUFFIXES)
    return n_midi > 0 and n_midi * 2 >= len(found)


def run_midi_check(args: argparse.Namespace) -> int:
    """Read every MIDI file; list usable files (melodic parts, 2- and 16-bar windows) and skipped ones."""
    from ..data.music import MusicDataConfig, count_windows, read_report
    from ..errors import DataError

    report = read_report(MusicDataConfig(path=args.dir), progress=show_progress(args), require=False)
    counts = {f"windows_{bars}_bars": count_windows(report, bars) for bars in (2, 16)}
    if args.json:
        print(json.dumps(_midi_json(report, counts), ensure_ascii=False))
    else:
        print(report.summary() + "\n" + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items()))
    if not report.files:  # print first, then fail: the listing says which files to fix
        raise DataError(f"no usable MIDI files in {report.root}")
    if not counts["windows_2_bars"]:
        raise DataError(f"no melody in {report.root} is long and busy enough for a 2-bar window")
    return 0


def _midi_json(report, counts: dict) -> dict:
    return {"root": report.root, "kind": "midi", "files": report.files, "parts": len(report.tunes),
            "bad": [{"path": b.path, "reason": b.reason} for b in report.bad], **counts,
            "licence": report.licence, "consent": report.consent}


def run_check(args: argparse.Namespace) -> int:
    """Check `args.dir` and print the report; 0 when at least one file is usable, else DataError."""
    if _is_midi_folder(args):
        return run_midi_check(args)
    cfg = DataConfig(
        path=args.dir,
        resolution=args.resolution,
        crop=args.crop,
        background=args.background,
        max_pixels=args.max_pixels,
    )
    check_config(cfg)
    # --quiet silences the progress bar only: the report is what this verb is for.
    report = check_folder(resolve_data_path(cfg), cfg, progress=show_progress(args))
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        print(report.summary())
    # Print first, then fail: the listing is what tells the user which files to fix.
    require_usable(report)
    return 0
