"""`artforge recipe FILE` and `artforge replay FILE --out NEW_FILE [--model RUN_DIR]`."""

from __future__ import annotations

import json
from pathlib import Path

from ..provenance import read_recipe
from ..provenance.recipe import dumps


def register(sub, parents) -> None:
    r = sub.add_parser("recipe", parents=parents, help="print the recipe inside a file as JSON",
                       description="Print the recipe (how it was made) inside a PNG, GIF, MP4 or MIDI file as JSON.")
    r.add_argument("file", metavar="FILE")
    r.add_argument("--json", action="store_true", help="print it on one line (default: indented, for reading)")
    r.set_defaults(func=run_recipe)

    p = sub.add_parser("replay", parents=parents, help="make a file again from its recipe",
                       description="Regenerate an output from its recipe and model; bit-identical on CPU.")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--out", required=True, metavar="NEW_FILE|DIR",
                   help="the file to write (its suffix picks the format); a folder gets FILE's name")
    p.add_argument("--model", default=None, metavar="RUN_DIR", help="model folder (default: found by its hash); "
                   "for stylize, the feature network's weights file, e.g. the --vgg19 FILE it was made with")
    p.add_argument("--device", default="auto", help="auto (default: the device the recipe names when this machine "
                   "has it, else the CPU; a CPU-made file replays bit for bit on the CPU), cpu, cuda, cuda:N or mps")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(func=run_replay)


def run_recipe(args) -> int:
    recipe = read_recipe(args.file)
    print(dumps(recipe) if args.json else json.dumps(recipe, indent=2, sort_keys=True, ensure_ascii=False))
    return 0


def run_replay(args) -> int:
    from ..pipelines.replay import replay       # torch: only when a file is replayed, not for --help

    out = Path(args.out)
    if out.is_dir() or (not out.suffix and not out.exists()):
        out = out / Path(args.file).name
    out, same = replay(args.file, out, args.model, args.device)
    if args.json:
        print(json.dumps({"out": str(out), "identical": same}))
    else:
        verdict = {True: "bit-identical to the original", False: "NOT identical to the original "
                   "(a different CPU, library version or device can change the last bits)",
                   None: "in another format, so not compared"}[same]
        print(f"replayed {args.file} -> {out}: {verdict}")
    return 0
