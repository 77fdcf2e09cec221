"""`artforge music sample|interpolate|breed`: melodies from a music model as MIDI, WAV and a piano roll."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..pipelines.params import Spec
from ..pipelines.specs import MUSIC_BREED, MUSIC_INTERPOLATE, MUSIC_SAMPLE
from ..provenance.recipe import recipe_to_write
from .params import DEVICE_HELP, add_pipeline_inputs, add_pipeline_options, out_target, pipeline_inputs, pipeline_kwargs

if TYPE_CHECKING:
    from ..pipelines.base import Output

# Option names that differ from the parameter's, so that every verb says --frames for a sequence's length
# (the recipe keeps the parameter's name; --steps still works, with a warning).
RENAME = {"music.interpolate": {"steps": "frames"}}


def register(sub, parents) -> None:
    m = sub.add_parser("music", parents=parents, help="create melodies with a music model (MIDI, WAV, piano roll)",
                       description="Sample, morph and breed melodies with a trained music model. Each MIDI file "
                                   "carries its recipe (artforge recipe / replay work on it).")
    verbs = m.add_subparsers(dest="music_verb", metavar="VERB", required=True)
    for verb, spec in (("sample", MUSIC_SAMPLE), ("interpolate", MUSIC_INTERPOLATE), ("breed", MUSIC_BREED)):
        _options(verbs.add_parser(verb, parents=parents, help=spec.help), spec)


def _options(p, spec: Spec) -> None:
    add_pipeline_inputs(p, spec)                 # the model, then the melodies: positional
    add_pipeline_options(p, spec, rename=RENAME.get(spec.name))
    p.add_argument("--out", required=True, metavar="DIR|FILE.mid",
                   help="a folder for the .mid, .wav and .png files; or FILE.mid: one melody (or a morph's whole "
                        "run) there, others beside it as FILE-NNN.mid, the piano roll as FILE.png")
    p.add_argument("--no-wav", action="store_true", help="skip rendering WAV audio")
    p.add_argument("--redact", default="", metavar="FIELDS",
                   help="recipe fields to leave out, comma-separated (e.g. model.path); 'all' strips it")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--json", action="store_true", help="print what was written as one JSON object")
    p.set_defaults(func=run, spec=spec)


def run(args) -> int:
    from ..pipelines import PIPELINES, load_model

    spec = args.spec
    kwargs = spec.resolve(**pipeline_kwargs(args, spec, rename=RENAME.get(spec.name)))
    inputs = pipeline_inputs(args, spec)
    out, to_file = out_target(args.out, (".mid", ".midi"), "a .mid file name")
    model = load_model(inputs.pop("model"), args.device)
    result = PIPELINES[spec.name](model).run(**inputs, **kwargs)
    folder, stem = (out.parent, out.stem) if to_file else (out, _stem(spec.name))
    written = write_melodies(result, folder, stem, float(kwargs["bpm"]), wav=not args.no_wav, redact=args.redact,
                             named=to_file)
    out = folder
    if args.json:
        print(json.dumps(written))
    else:                                        # the result, printed with --quiet too
        n = len(written["midi"])
        print(f"wrote {n} MIDI file(s){' and WAVs' if written['wav'] else ''} and {written['piano_roll']} to {out}/"
              + (f" ({written['synth']} synth)" if written.get("synth") else ""), file=sys.stdout)
    if written.get("synth") == "builtin" and not args.quiet:
        print("note: the WAVs use the small built-in synth; for General MIDI instruments install tinysoundfont "
              "(pip install --no-deps tinysoundfont)", file=sys.stderr)
    return 0


PLURAL = {"child": "children"}


def _stem(name: str) -> str:
    return {"music.sample": "sample", "music.interpolate": "morph", "music.breed": "child"}[name]


def write_melodies(result: Output, out: Path, stem: str, bpm: float, wav: bool = True, redact: str = "",
                   named: bool = False) -> dict:
    """Each melody as STEM-NNN.mid (+ .wav); a morph's whole run as morph.mid; one piano roll of all.

    `named`: STEM is the user's file name: the morph's whole run (or a lone melody) is STEM.mid, the roll STEM.png.
    """
    from ..io.audio import render_wav
    from ..io.pianoroll import piano_roll
    from ..provenance.recipe import dumps
    from ..provenance.write import save_midi

    out.mkdir(parents=True, exist_ok=True)
    written: dict = {"midi": [], "wav": [], "piano_roll": ""}
    singles = []
    for melody, recipe in zip(result.melodies, result.recipes):
        whole = recipe.get("output") == "morph"
        p = recipe["params"]
        number = p.get("index", 0) + (p.get("seed", 0) if recipe.get("pipeline") == "music.sample" else 0)
        lone = named and len(result.melodies) == 1
        name = (stem if named else "morph") if whole else stem if lone else f"{stem}-{number:03d}"
        midi = save_midi([melody], out / f"{name}.mid", recipe_to_write(recipe, redact), tempo_bpm=bpm)
        written["midi"].append(str(midi))
        if wav:
            written["synth"] = render_wav(melody, out / f"{name}.wav", tempo_bpm=bpm)
            written["wav"].append(str(out / f"{name}.wav"))
        if not whole:
            singles.append((name, melody))
    roll = out / f"{stem if named else PLURAL.get(stem, stem + 's')}.png"
    roll_recipe = recipe_to_write(result.recipes[-1], redact)
    text = dumps(roll_recipe) if roll_recipe is not None else None
    piano_roll([m for _, m in singles], roll, titles=[n for n, _ in singles], recipe_text=text)
    written["piano_roll"] = str(roll)
    return written
