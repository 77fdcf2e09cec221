"""Replay: make an output again from the recipe inside it and the model whose hash it names."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .. import families
from ..errors import RecipeError, RunError, UserError
from ..io.video import read_frames
from ..io.weights import WEIGHTS_NAME, file_sha256
from ..models.pretrained import shipped_model_dir
from ..provenance import read_recipe
from ..provenance.recipe import check_replayable
from ..provenance.write import save_animation, save_image
from .base import ModelHandle, Output, load_model, pick_device


def candidate_model_dirs(recipe: dict, explicit: str | None) -> list[Path | str]:
    """Where to look for the model, most specific first: --model, the recorded path, every registered
    family's shipped models, folders named in $ARTFORGE_RUNS, and run folders up to two levels below the
    current directory."""
    if explicit:
        return [explicit]
    out: list[Path | str] = []
    recorded = recipe.get("model", {}).get("path")
    if recorded:
        out.append(Path(recorded))
    out += [s.name for s in families.starters()]
    for root in filter(None, os.environ.get("ARTFORGE_RUNS", "").split(os.pathsep)):
        out += [p.parent for p in Path(root).glob(f"**/{WEIGHTS_NAME}")]
    cwd = Path.cwd()
    out += [p.parent for pattern in (f"*/{WEIGHTS_NAME}", f"*/*/{WEIGHTS_NAME}") for p in cwd.glob(pattern)]
    return out


def find_model(recipe: dict, explicit: str | None = None, device: str = "cpu") -> ModelHandle:
    """The model whose weights hash is the recipe's `model.sha256`; RecipeError if none is found."""
    want = recipe.get("model", {}).get("sha256")
    if not want:
        raise RecipeError("the recipe has no model.sha256 (it was redacted?), so its model cannot be found; "
                          "it cannot be replayed")
    seen = set()
    for cand in candidate_model_dirs(recipe, explicit):
        folder = (shipped_model_dir(cand) or Path(cand)) if isinstance(cand, str) else Path(cand)
        weights = folder / WEIGHTS_NAME
        if folder in seen or not weights.is_file():
            continue
        seen.add(folder)
        got = file_sha256(weights)
        if got == want:
            return load_model(cand, device, sha256=got)
        if explicit:
            raise RecipeError(f"--model {explicit} is not the model that made this file "
                              f"(its weights hash {got[:12]}…, the recipe wants {want[:12]}…)")
    if explicit:
        raise RunError(f"--model {explicit} holds no model.safetensors")
    raise RecipeError(f"the model that made this file (sha256 {want[:12]}…) was not found; "
                      "give its run folder with --model RUN_DIR (or set ARTFORGE_RUNS)")


def replay_device(recipe: dict, device: str = "auto") -> torch.device:
    """`device`, or for 'auto' the kind the recipe ran on (cpu for recipes older than that field) when this
    machine has it, else the CPU: a CPU-made file replays on the CPU, bit for bit, on a GPU machine too."""
    if str(device) != "auto":
        return pick_device(device)
    recorded = recipe.get("device")
    try:
        return pick_device(recorded if recorded in ("cpu", "cuda", "mps") else "cpu")
    except UserError:
        return torch.device("cpu")


def replay(src: str | Path, out: str | Path, model: str | None = None, device: str = "auto") -> tuple[Path, bool | None]:
    """Write the replayed output to `out`; also say whether it equals `src` pixel for pixel."""
    from . import pipeline_class

    recipe = read_recipe(src)
    check_replayable(recipe, src)
    if Path(out).resolve() == Path(src).resolve():
        raise RecipeError(f"{out} is the file being replayed; give another file name or a folder (replay never "
                          "writes over its source)")
    name = recipe.get("pipeline")
    cls = pipeline_class(name) if isinstance(name, str) else None
    if cls is None:
        raise RecipeError(f"{src}: the recipe names no pipeline this artforge can replay ({name!r})")
    if "params" not in recipe:
        raise RecipeError(f"{src}: the recipe has no params, so it cannot be replayed")
    # a pipeline with no trained model (stylize.optimize) finds its own network by the recipe's hash
    find = getattr(cls, "replay_model", find_model)
    handle = find(recipe, model, replay_device(recipe, device))
    out = Path(out)
    if recipe.get("output") == "video":
        return _replay_video(cls(handle), recipe, src, out)
    result: Output = cls(handle).replay(recipe)
    if result.kind == "melody":
        from ..data.midi import BadMidi, read_midi
        from ..provenance.write import save_midi

        save_midi(result.melodies, out, recipe, tempo_bpm=float(recipe["params"].get("bpm", 120.0)))
        try:
            same = [m.tolist() for m in read_midi(src)] == [m.tolist() for m in read_midi(out)]
        except BadMidi:
            same = False
        return out, same
    if result.kind == "animation":
        fps = int(recipe["params"].get("fps", 24))
        save_animation(result.images, out, recipe, fps)
        same = _same_frames(src, out) if Path(src).suffix.lower() == out.suffix.lower() else None
    else:
        save_image(result.images[0], out, recipe)
        same = _same_pixels(Image.open(src), Image.open(out))
    return out, same


def _replay_video(pipe, recipe: dict, src: str | Path, out: Path) -> tuple[Path, bool | None]:
    """Stylize the recorded video again (it must be the same file: its SHA-256 is checked)."""
    from .video import stylize_video

    video = next((p for p in recipe.get("parents") or [] if p.get("kind") == "video"), None)
    if video is None or not hasattr(pipe, "replay_video_stylizer"):
        raise RecipeError(f"{src}: the recipe names no input video; it cannot be replayed")
    path = Path(str(video.get("path", "")))
    if not path.is_file():
        raise RecipeError(f"the video this file was made from is missing: {path}; replay needs it at the same path")
    if file_sha256(path) != video.get("sha256"):
        raise RecipeError(f"the video {path} has changed since (its SHA-256 differs); replay needs the original")
    body = {k: v for k, v in recipe.items() if k not in ("parents",)}
    body["parents"] = [p for p in recipe.get("parents") or [] if p.get("kind") != "video"]
    stylize_video(path, out, pipe.replay_video_stylizer(recipe), temporal=float(recipe["params"].get("temporal", 0)),
                  recipe=body)
    return out, _same_frames(Path(src), out) if Path(src).suffix.lower() == out.suffix.lower() else None


def _same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return np.array_equal(np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB")))


def _same_frames(a: Path, b: Path) -> bool:
    fa, fb = read_frames(a), read_frames(b)
    return len(fa) == len(fb) and all(_same_pixels(x, y) for x, y in zip(fa, fb))
