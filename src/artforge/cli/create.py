"""`artforge generate` and `artforge interpolate`: pipelines from a trained model (or the starter)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import UserError
from ..io.video import FORMATS
from ..models.pretrained import STARTER
from ..pipelines import GeneratePipeline, InterpolatePipeline, load_model
from ..pipelines.generate import MAX_REDRAWS
from ..provenance.write import save_animation, save_image
from .params import DEVICE_HELP, add_pipeline_options, pipeline_kwargs


def register(sub, parents) -> None:
    g = sub.add_parser("generate", parents=parents, help=GeneratePipeline.help,
                       description="Sample images from a model; each PNG carries its recipe.")
    g.add_argument("model", metavar="RUN_DIR|starter")
    add_pipeline_options(g, GeneratePipeline)
    _shared(g, "DIR", "folder for the images and grid.png")
    g.set_defaults(func=run_generate)

    i = sub.add_parser("interpolate", parents=parents, help=InterpolatePipeline.help,
                       description="Morph between seeds' images; writes a GIF or an MP4 with its recipe.")
    i.add_argument("model", metavar="RUN_DIR|starter")
    add_pipeline_options(i, InterpolatePipeline)
    _shared(i, "FILE.gif|FILE.mp4", "animation file to write")
    i.set_defaults(func=run_interpolate)


def _shared(p: argparse.ArgumentParser, metavar: str, help: str) -> None:
    p.add_argument("--out", required=True, metavar=metavar, help=help)
    p.add_argument("--redact", default="", metavar="FIELDS",
                   help="recipe fields to leave out, comma-separated (e.g. model.path,dataset); 'all' strips it")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--json", action="store_true", help="print what was written as one JSON object")


def _redaction(args) -> tuple[bool, str]:
    return args.redact.strip() != "all", "" if args.redact.strip() == "all" else args.redact


def run_generate(args) -> int:
    kwargs = GeneratePipeline.resolve(**pipeline_kwargs(args, GeneratePipeline))
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a folder")
    keep, fields = _redaction(args)
    model = load_model(args.model, args.device)
    if args.model == STARTER:
        kwargs["no_copies"] = True          # the starter always checks: its index ships with it
    guard = None
    if kwargs["no_copies"]:
        from ..metrics.guard import CopyGuard
        guard = CopyGuard.for_model(model)
    result = GeneratePipeline(model, copy_check=guard)(**kwargs)
    flagged = [r for r in result.recipes if r["params"].get("copy_check", {}).get("flagged")]
    if flagged and not args.quiet:
        print(f"warning: {len(flagged)} image(s) still close to a training image after {MAX_REDRAWS} redraws "
              "(see copy_check in their recipes)", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    t = kwargs["truncation"]
    suffix = "" if t == 1.0 else f"-t{t:g}"
    paths = []
    for img, recipe in zip(result.images, result.recipes):
        name = (f"grid-seed{kwargs['seed']}-n{kwargs['n']}{suffix}.png" if recipe["output"] == "grid"
                else f"seed{recipe['params']['image_seed']}{suffix}.png")
        paths.append(str(save_image(img, out / name, recipe if keep else None, fields)))
    if args.json:
        print(json.dumps({"images": paths[:-1], "grid": paths[-1]}))
    else:                                        # the result, printed with --quiet too
        n = len(paths) - 1
        print(f"wrote {n} image{'s' if n != 1 else ''} and a grid to {out}/ (grid: {paths[-1]})")
    return 0


def run_interpolate(args) -> int:
    kwargs = InterpolatePipeline.resolve(**pipeline_kwargs(args, InterpolatePipeline))
    out = Path(args.out)
    if out.suffix.lower() not in FORMATS:
        raise UserError(f"--out {out}: give a .gif or .mp4 file name")
    keep, fields = _redaction(args)
    result = InterpolatePipeline(load_model(args.model, args.device))(**kwargs)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_animation(result.images, out, result.recipes[0] if keep else None, kwargs["fps"], fields)
    if args.json:
        print(json.dumps({"animation": str(out), "frames": len(result.images)}))
    else:
        print(f"wrote {len(result.images)} frames to {out}")
    return 0
