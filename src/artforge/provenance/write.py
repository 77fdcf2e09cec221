"""Write outputs with their recipe inside."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from .. import __version__
from ..errors import UserError
from ..io.images import save_png
from ..io.midi import write_midi
from ..io.video import write_animation, write_video
from .recipe import RECIPE_KEY, dumps, redact


def save_image(image: Image.Image, path: str | Path, recipe: dict | None, redact_fields=None) -> Path:
    """PNG with the recipe (minus redacted fields) in an iTXt chunk; `recipe=None` strips it."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise UserError(f"{path}: images are written as .png (so that the recipe travels with them)")
    text = {"Software": f"artforge {__version__}"}
    if recipe is not None:
        text[RECIPE_KEY] = dumps(redact(recipe, redact_fields))
    save_png(image, path, text)
    return path


def save_animation(frames: list[Image.Image], path: str | Path, recipe: dict | None, fps: int,
                   redact_fields=None) -> Path:
    comment = dumps(redact(recipe, redact_fields)) if recipe is not None else ""
    write_animation(frames, path, fps=fps, comment=comment)
    return Path(path)


def save_video(frames: list[Image.Image], path: str | Path, recipe: dict | None, fps,
               redact_fields=None) -> Path:
    """MP4 at exactly `fps` (int, float or Fraction), frame size kept, with the recipe (minus redacted fields)
    in its `comment` metadata, written atomically; `recipe=None` leaves the comment empty."""
    comment = dumps(redact(recipe, redact_fields)) if recipe is not None else ""
    return write_video(frames, path, fps, comment=comment)


def save_midi(melodies, path: str | Path, recipe: dict | None, *, tempo_bpm: float, redact_fields=None,
              program: int = 0) -> Path:
    """MIDI file (one track per melody) with the recipe (minus redacted fields); `recipe=None` strips it.

    >>> import tempfile, pathlib
    >>> from artforge.provenance import read_recipe
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tune.mid"
    >>> _ = save_midi([[41, 0, 0, 1]], path, {"pipeline": "sample", "params": {"seed": 1}}, tempo_bpm=100,
    ...               redact_fields="params.seed")
    >>> read_recipe(path)
    {'params': {}, 'pipeline': 'sample', 'redacted': ['params.seed']}
    """
    path = Path(path)
    if path.suffix.lower() not in (".mid", ".midi"):
        raise UserError(f"{path}: melodies are written as .mid (so that the recipe travels with them)")
    text = dumps(redact(recipe, redact_fields)) if recipe is not None else None
    return write_midi(melodies, path, tempo_bpm=tempo_bpm, program=program, recipe_text=text)
