"""Melodies in the studio: the music models it can use, and melodies kept as artworks.

A melody artwork is an ordinary artwork (author, model, pipeline, recipe, lineage) whose picture is its piano
roll; its MIDI file (with the recipe inside, so `artforge replay` works on a download) and its WAV are two
more content-addressed objects, listed in the `media` table. All three files are written before the rows that
name them are committed, in one transaction for a whole request, as pictures are.

Music models are the shipped melody starters (`starter:melody-2bar`, ...) and every run folder whose
config.json says `family: music`.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.melody import ATTRIBUTES, STEPS_PER_BAR, events_to_notes, notes_to_events
from ..data.midi import BadMidi, read_midi_bytes
from ..data.music import windows
from ..errors import UserError
from ..io.weights import CONFIG_NAME, WEIGHTS_NAME
from ..models.pretrained import MUSIC_STARTERS, STARTER, music_starter_dir
from .models import LoadedModels, ModelLibrary, NotFound
from .objects import MEDIA_KINDS, media_store

ATTRIBUTES_NAME = "attributes.safetensors"      # as pipelines.music writes it beside the weights
UPLOAD_STEPS = 16 * STEPS_PER_BAR              # an uploaded tune keeps up to 16 bars: the longest model's length


@dataclass
class Melody:
    """One melody to keep: its tokens, its recipe, and the files made from them."""
    events: np.ndarray
    recipe: dict
    seed: int | None = None
    rows: list | None = None           # a morph: its steps, one piano-roll row each


class MusicModels:
    """The music models by name, a few kept loaded (loading happens on the generation thread)."""

    def __init__(self, library: ModelLibrary, device: str = "cpu", cache_size: int = 3):
        self.library, self.device = library, device
        self._handles = LoadedModels(device, cache_size)

    def folder(self, name: str) -> Path:
        if name in MUSIC_STARTERS:
            folder = music_starter_dir(name)
            if not (folder / WEIGHTS_NAME).is_file():
                raise NotFound(f"model {name!r} is not installed in this artforge")
            return folder
        folder = self.library.folder(name)              # refuses names that lead outside the runs folder
        if _config(folder).get("family") != "music":
            raise UserError(f"model: {name!r} is not a music model; see GET /api/music/models")
        return folder

    def names(self) -> list[str]:
        starters = [n for n in MUSIC_STARTERS if (music_starter_dir(n) / WEIGHTS_NAME).is_file()]
        runs = [n for n in self.library.names()
                if n != STARTER and _config(self.library.runs_dir / n).get("family") == "music"]
        return starters + runs

    def describe(self, name: str) -> dict:
        folder = self.folder(name)
        config = _config(folder)
        steps = int(config.get("model", {}).get("steps", 0))
        ready = (folder / WEIGHTS_NAME).is_file() and steps > 0
        return {"name": name, "arch": config.get("arch"), "bars": steps // STEPS_PER_BAR, "steps": steps,
                "ready": ready, "shipped": name in MUSIC_STARTERS, "dataset": config.get("dataset", {}),
                "attributes": [{"name": a, "help": ATTRIBUTES.get(a, "")} for a in attribute_names(folder)]}

    def ready(self, name: str) -> dict:
        """describe(name) of a model that can create now; NotFound while it has no weights yet."""
        info = self.describe(name)
        if not info["ready"]:
            raise NotFound(f"model {name!r} has no trained weights yet ({WEIGHTS_NAME}); wait for its training")
        return info

    def load(self, name: str):
        """The loaded ModelHandle (cached; reloaded when the weights file changes)."""
        folder = self.folder(name)
        return self._handles.get(name, folder, name if name in MUSIC_STARTERS else folder)


def _config(folder: Path) -> dict:
    try:
        config = json.loads((folder / CONFIG_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def attribute_names(folder: Path) -> list[str]:
    """The attributes a model can be steered along: the vectors in its attributes.safetensors (names only,
    in the order of data.melody.ATTRIBUTES; the file's header is read, not its tensors)."""
    from safetensors import safe_open

    path = folder / ATTRIBUTES_NAME
    if not path.is_file():
        return []
    try:
        with safe_open(str(path), framework="pt") as f:
            keys = set(f.keys())
    except Exception:                  # a damaged file steers nothing; sampling still works
        return []
    return [a for a in ATTRIBUTES if a in keys]


# -- melodies in and out -------------------------------------------------------------------------------------
def melody_from_upload(data: bytes) -> np.ndarray:
    """The tune in an uploaded MIDI file: the first melodic part that has a playable 2-bar window, from that
    window on, up to 16 bars. UserError with the reader's reason when there is none."""
    try:
        parts = read_midi_bytes(data)
    except BadMidi as e:
        raise UserError(f"file: {e}") from None
    for part in parts:
        for start in range(0, max(len(part) - 2 * STEPS_PER_BAR, 0) + 1, STEPS_PER_BAR):
            if windows(part[start:start + 2 * STEPS_PER_BAR], 2, 1):
                return fit(part[start:start + UPLOAD_STEPS], min(len(part) - start, UPLOAD_STEPS))
    raise UserError("file: no melody of 2 bars or more to use (a part needs at least 4 notes in 2 bars "
                    "and no rest longer than a bar)")


def fit(events: np.ndarray, steps: int) -> np.ndarray:
    """The same notes on exactly `steps` steps: cut, or padded with silence (never with a held note)."""
    return notes_to_events(events_to_notes(np.asarray(events)), steps)


def melody_of(store, objects_root: Path, art: dict, steps: int) -> np.ndarray:
    """The melody of a music artwork as `steps` tokens, read back from its MIDI file: the whole melody when it
    fits, else its first playable window of that length."""
    aid = art["id"]
    sha = store.media(aid).get("midi")
    if sha is None:
        raise UserError(f"artwork {aid} is a picture, not a melody; pick melodies from the Music page or "
                        "the gallery's music artworks")
    path = media_store(objects_root, "midi").path(sha)
    try:
        parts = read_midi_bytes(path.read_bytes())
    except OSError:
        raise NotFound(f"the MIDI file of artwork {aid} is missing from the data dir") from None
    except BadMidi as e:
        raise UserError(f"artwork {aid} has no usable melody ({e})") from None
    events = parts[0]
    if len(events) <= steps:
        return fit(events, steps)
    found = windows(events, steps // STEPS_PER_BAR, 1)
    if not found:
        raise UserError(f"artwork {aid} has no playable stretch of {steps // STEPS_PER_BAR} bars for this model")
    return found[0]


STUDIO_WAV_RATE = 22050


def render(tmp_dir: Path, melody: Melody, bpm: float) -> dict[str, bytes]:
    """The files of one melody: piano-roll PNG, MIDI (recipe inside), WAV."""
    from ..io.audio import render_wav
    from ..io.pianoroll import piano_roll
    from ..provenance.write import save_midi

    with tempfile.TemporaryDirectory(dir=tmp_dir) as tmp:
        d = Path(tmp)
        rows = melody.rows or [melody.events]
        titles = [f"step {i + 1}" for i in range(len(rows))] if melody.rows else None
        piano_roll(rows, d / "roll.png", titles=titles)
        save_midi([melody.events], d / "melody.mid", melody.recipe, tempo_bpm=bpm)
        # 22.05 kHz: a preview for the browser's player (the MIDI is the master), half the size of CD rate;
        # a 16-step morph of 16-bar melodies is still ten minutes of audio
        render_wav(melody.events, d / "melody.wav", tempo_bpm=bpm, sample_rate=STUDIO_WAV_RATE)
        return {"png": (d / "roll.png").read_bytes(), "midi": (d / "melody.mid").read_bytes(),
                "wav": (d / "melody.wav").read_bytes()}


def keep(studio, user_id: int | None, model: str, melodies: list[Melody], bpm: float,
         parents: list[int] = ()) -> list[dict]:
    """Render and write every melody's files, then record all of them in ONE transaction."""
    root = studio.settings.objects_dir
    written = []
    for m in melodies:
        files = render(studio.settings.tmp_dir, m, bpm)
        written.append((studio.objects.put(files["png"]),
                        {kind: media_store(root, kind).put(files[kind]) for kind in MEDIA_KINDS}))
    with studio.store.tx() as c:
        ids = []
        for m, (png, media) in zip(melodies, written):
            aid = studio.store.add_artwork(c, sha256=png, author=user_id, model=model,
                                           pipeline=m.recipe["pipeline"], recipe=m.recipe, seed=m.seed,
                                           parents=list(parents))
            for kind, sha in media.items():
                studio.store.add_media(c, aid, kind, sha)
            ids.append(aid)
    return [studio.store.artwork(i) for i in ids]
