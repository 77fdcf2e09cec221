"""A recipe is a JSON object that says how an output was made:

    {"artforge_version", "pipeline", "output" (image|grid|animation|video), "params",
     "model": {"sha256", "name", "arch", "config"}, "dataset": {"manifest_sha256", "licence", "consent"},
     "parents": [...], "device" (cpu|cuda|mps), "created", "redacted": [...]}

It travels in the file: a PNG iTXt chunk named `artforge.recipe`, a GIF comment, MP4 metadata `comment`,
a MIDI text event starting `artforge.recipe:`.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .. import __version__
from ..errors import RecipeError, UserError, not_a_file
from ..io.png import TextTooLarge, is_png, read_png_text

RECIPE_KEY = "artforge.recipe"
MAX_RECIPE_BYTES = 16 * 2**20         # recipes are a few kB; a text chunk this long is not one
# What a replay cannot do without; redacting these makes an output unreplayable, which is allowed.
REPLAY_FIELDS = ("pipeline", "params", "model.sha256")


def build_recipe(pipeline: str, output: str, params: dict, model: dict, dataset: dict,
                 parents: list | tuple = (), device: str | None = None) -> dict:
    """A recipe for one output of `pipeline` (`output` says what the file is: image, grid, animation, video);
    `device` is the kind it ran on (cpu, cuda, mps), which replay takes again to come out bit for bit."""
    return ({"device": device} if device else {}) | {
        "artforge_version": __version__,
        "pipeline": pipeline,
        "output": output,
        "params": dict(params),
        "model": dict(model),
        "dataset": dict(dataset),
        "parents": list(parents),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def redact(recipe: dict, fields: list[str] | str | None) -> dict:
    """A copy of `recipe` without the dotted `fields` (e.g. 'model.config,params.seed,created').

    >>> redact({"a": 1, "b": {"c": 2, "d": 3}}, "b.c")
    {'a': 1, 'b': {'d': 3}, 'redacted': ['b.c']}
    """
    if not fields:
        return recipe
    if isinstance(fields, str):
        fields = [f.strip() for f in fields.split(",") if f.strip()]
    out = copy.deepcopy(recipe)
    for field in fields:
        node = out
        *parents, leaf = field.split(".")
        for p in parents:
            node = node.get(p) if isinstance(node, dict) else None
        if not isinstance(node, dict) or leaf not in node:
            raise UserError(f"--redact: the recipe has no field '{field}'; fields are: {', '.join(_paths(recipe))}")
        del node[leaf]
    out["redacted"] = sorted(set(out.get("redacted", [])) | set(fields))
    return out


def recipe_to_write(recipe: dict | None, redact_text: str | None) -> dict | None:
    """The recipe a file is written with under `--redact TEXT`: None for 'all' (the file carries no recipe),
    else the recipe without the named fields (comma-separated, dotted; none: the whole recipe).

    >>> recipe_to_write({"a": 1, "b": {"c": 2}}, " all ") is None
    True
    >>> recipe_to_write({"a": 1, "b": {"c": 2}}, "b.c")
    {'a': 1, 'b': {}, 'redacted': ['b.c']}
    >>> recipe_to_write({"a": 1}, "")
    {'a': 1}
    """
    text = (redact_text or "").strip()
    if recipe is None or text == "all":
        return None
    return redact(recipe, text)


# The fields replay reads, with the JSON type each must have.
SHAPES = {"pipeline": str, "output": str, "params": dict, "model": dict, "dataset": dict, "parents": list}
_KINDS = ((bool, "a boolean"), (dict, "an object"), (list, "a list"), (str, "a string"), ((int, float), "a number"))


def _kind(value) -> str:
    return next((name for tp, name in _KINDS if isinstance(value, tp)), "null")


def check_replayable(recipe: dict, src: str | Path) -> None:
    """RecipeError naming what keeps `recipe` from being replayed: a field redacted away, or of the wrong type."""
    redacted = recipe.get("redacted") if isinstance(recipe.get("redacted"), list) else []
    for field in REPLAY_FIELDS:
        cut = next((r for r in redacted if field == r or field.startswith(f"{r}.")), None)
        if cut is not None:
            were = "were" if field == "params" else "was"
            raise RecipeError(f"{src}: its recipe's {field} {were} left out when it was written (--redact {cut}), "
                              "so it cannot be replayed")
    for key, tp in SHAPES.items():
        if key in recipe and not isinstance(recipe[key], tp):
            raise RecipeError(f"{src}: the recipe's '{key}' is {_kind(recipe[key])}, not {_kind(tp())}; the recipe "
                              "was edited or damaged, so it cannot be replayed")
    sha = recipe.get("model", {}).get("sha256")
    if sha is not None and not isinstance(sha, str):
        raise RecipeError(f"{src}: the recipe's 'model.sha256' is {_kind(sha)}, not a string; the recipe was edited "
                          "or damaged, so it cannot be replayed")


def _paths(d: dict, prefix: str = "") -> list[str]:
    out = []
    for k, v in d.items():
        out.append(prefix + k)
        if isinstance(v, dict) and k != "config":
            out += _paths(v, f"{prefix}{k}.")
    return out


def dumps(recipe: dict) -> str:
    """Strict JSON (NaN and infinities are refused, as every other JSON reader refuses them)."""
    return json.dumps(recipe, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _no_constant(name: str):
    raise ValueError(name)


def read_recipe(path: str | Path) -> dict:
    """The recipe inside a PNG, GIF, MP4 or MIDI file made by artforge; RecipeError when there is none."""
    p = Path(path)
    if not p.is_file():
        raise RecipeError(not_a_file(p, "file not found", "a file (PNG, GIF, MP4 or MIDI)"))
    suffix = p.suffix.lower()
    if suffix in (".mid", ".midi"):
        from ..io.midi import read_recipe_text   # here, so reading image recipes never needs mido

        text = read_recipe_text(p)
    else:
        text = _read_mp4_comment(p) if suffix in (".mp4", ".mov", ".m4v") else _read_image_text(p)
    if not text:
        raise RecipeError(f"{p} carries no artforge recipe (it was not made by artforge, or its metadata "
                          "was stripped)")
    try:
        recipe = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError:
        raise RecipeError(f"{p} has a damaged artforge recipe (not valid JSON)") from None
    except ValueError as e:
        raise RecipeError(f"{p} has a damaged artforge recipe (not valid JSON: {e})") from None
    if not isinstance(recipe, dict):
        raise RecipeError(f"{p} has a damaged artforge recipe (not a JSON object)")
    return recipe


def _read_image_text(p: Path) -> str | None:
    try:
        if is_png(p):                             # read without Pillow's pixel and text limits: nothing is decoded
            return read_png_text(p, RECIPE_KEY, MAX_RECIPE_BYTES)
    except TextTooLarge:
        raise RecipeError(f"{p}: its {RECIPE_KEY} text is over {MAX_RECIPE_BYTES >> 20} MiB, far more than any "
                          "recipe; it is not read") from None
    except ValueError as e:
        raise RecipeError(f"{p} has a damaged artforge recipe ({e})") from None
    try:
        with Image.open(p) as im:
            if im.format == "GIF":
                comment = im.info.get("comment")
                text = comment.decode("utf-8", "replace") if isinstance(comment, bytes) else comment
                return text if text and text.lstrip().startswith("{") else None
            return None
    except Image.DecompressionBombError:
        raise RecipeError(f"{p} is a picture of more pixels than artforge opens (Pillow's limit against "
                          "decompression bombs); it is not read") from None
    except (UnidentifiedImageError, OSError):
        raise RecipeError(f"{p} is not an image artforge can read a recipe from (PNG, GIF, MP4 or MIDI)") from None


def _read_mp4_comment(p: Path) -> str | None:
    import av

    try:
        with av.open(str(p)) as c:
            return c.metadata.get("comment")
    except av.FFmpegError:
        raise RecipeError(f"{p} is not a readable video") from None
