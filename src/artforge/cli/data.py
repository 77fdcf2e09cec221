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
    p.add_argument("dir", metavar="DIR", help="a folder of images, or 'builtin'")
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


def run_check(args: argparse.Namespace) -> int:
    """Check `args.dir` and print the report; 0 when at least one image is usable, else DataError."""
    cfg = DataConfig(
        path=args.dir,
        resolution=args.resolution,
        crop=args.crop,
        background=args.background,
        max_pixels=args.max_pixels,
    )
    check_config(cfg)
    # --quiet silences the progress bar only: the report is what this verb is for.
    report = check_folder(resolve_data_path(cfg), cfg, progress=not getattr(args, "quiet", False))
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        print(report.summary())
    # Print first, then fail: the listing is what tells the user which files to fix.
    require_usable(report)
    return 0
