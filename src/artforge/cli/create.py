"""`artforge generate` and `artforge interpolate`: pipelines from a trained model (or the starter)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..io.video import FORMATS
from ..pipelines.specs import GENERATE, INTERPOLATE
from ..provenance.recipe import recipe_to_write
from .params import DEVICE_HELP, add_pipeline_inputs, add_pipeline_options, out_target, pipeline_inputs, pipeline_kwargs


def register(sub, parents) -> None:
    g = sub.add_parser("generate", parents=parents, help=GENERATE.help,
                       description="Sample images from a model; each PNG carries its recipe.")
    add_pipeline_inputs(g, GENERATE)
    add_pipeline_options(g, GENERATE)
    _shared(g, "DIR|FILE.png", "a folder for the images and their grid; or a .png file: with -n 1 the image, "
                               "with more the grid, the images beside it as NAME-seedS.png")
    g.set_defaults(func=run_generate)

    i = sub.add_parser("interpolate", parents=parents, help=INTERPOLATE.help,
                       description="Morph between seeds' images; writes a GIF or an MP4 with its recipe.")
    add_pipeline_inputs(i, INTERPOLATE)
    add_pipeline_options(i, INTERPOLATE)
    _shared(i, "FILE.gif|FILE.mp4|DIR", "the animation to write; a folder gets interpolate-SEEDS.gif")
    i.set_defaults(func=run_interpolate)


def _shared(p: argparse.ArgumentParser, metavar: str, help: str) -> None:
    p.add_argument("--out", required=True, metavar=metavar, help=help)
    p.add_argument("--redact", default="", metavar="FIELDS",
                   help="recipe fields to leave out, comma-separated (e.g. model.path,dataset); 'all' strips it")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--json", action="store_true", help="print what was written as one JSON object")


def run_generate(args) -> int:
    from ..models.pretrained import STARTER
    from ..pipelines import GeneratePipeline, load_model
    from ..pipelines.generate import MAX_REDRAWS
    from ..provenance.write import save_image

    kwargs = GENERATE.resolve(**pipeline_kwargs(args, GENERATE))
    out, to_file = out_target(args.out, (".png",), "a .png file name")
    model = load_model(pipeline_inputs(args, GENERATE)["model"], args.device)
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
    paths = [str(save_image(img, path, recipe_to_write(recipe, args.redact)))
             for img, recipe, path in zip(result.images, result.recipes, _generate_paths(out, to_file, kwargs))
             if path is not None]
    n = kwargs["n"]
    images, grid = (paths, None) if len(paths) == n else (paths[:-1], paths[-1])
    if args.json:
        print(json.dumps({"images": images, "grid": grid}))
    elif grid is None:                           # the result, printed with --quiet too
        print(f"wrote {images[0]}")
    else:
        print(f"wrote {n} image{'s' if n != 1 else ''} and a grid to {Path(grid).parent}/ (grid: {grid})")
    return 0


def _generate_paths(out: Path, to_file: bool, kwargs: dict) -> list[Path | None]:
    """Where each image and then the grid go (None: not written): a folder gets seedS.png and grid-...png;
    FILE.png is the one image of -n 1, or else the grid, with NAME-seedS.png beside it."""
    t, n, seed = kwargs["truncation"], kwargs["n"], kwargs["seed"]
    suffix = "" if t == 1.0 else f"-t{t:g}"
    if not to_file:
        out.mkdir(parents=True, exist_ok=True)
        return [out / f"seed{seed + i}{suffix}.png" for i in range(n)] + [out / f"grid-seed{seed}-n{n}{suffix}.png"]
    out.parent.mkdir(parents=True, exist_ok=True)
    if n == 1:
        return [out, None]
    return [out.with_name(f"{out.stem}-seed{seed + i}{suffix}.png") for i in range(n)] + [out]


def run_interpolate(args) -> int:
    from ..pipelines import InterpolatePipeline, load_model
    from ..provenance.write import save_animation

    kwargs = INTERPOLATE.resolve(**pipeline_kwargs(args, INTERPOLATE))
    out, to_file = out_target(args.out, tuple(FORMATS), "a .gif or .mp4 file name")
    if not to_file:
        out = out / f"interpolate-{'-'.join(map(str, kwargs['seeds']))}{'-loop' if kwargs['loop'] else ''}.gif"
    result = InterpolatePipeline(load_model(pipeline_inputs(args, INTERPOLATE)["model"], args.device))(**kwargs)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_animation(result.images, out, recipe_to_write(result.recipes[0], args.redact), kwargs["fps"])
    if args.json:
        print(json.dumps({"animation": str(out), "frames": len(result.images)}))
    else:
        print(f"wrote {len(result.images)} frames to {out}")
    return 0
