"""Melodies out as Standard MIDI files, with the recipe in a text event; and the recipe read back.

One conductor track (name, tempo, 4/4, the recipe) and one track per melody, each on its own channel so
that melodies written side by side never cut each other's notes short. Times are whole 16th-note steps.

>>> import tempfile, pathlib, numpy as np
>>> from artforge.io.notes import Note, notes_to_events
>>> path = pathlib.Path(tempfile.mkdtemp()) / "tune.mid"
>>> _ = write_midi(notes_to_events([Note(60, 0, 4), Note(64, 4, 8)], 16), path, recipe_text='{"a":1}')
>>> read_recipe_text(path)
'{"a":1}'
"""

from __future__ import annotations

import io

from pathlib import Path
from typing import Iterable

import mido
import numpy as np

from ..errors import RecipeError, UserError
from .atomic import atomic_save
from .notes import N_CLASSES, NO_EVENT, NOTE_OFF, STEPS_PER_QUARTER, Note, events_to_notes, notes_to_events

# The text event that carries the recipe starts with this, so it is found among other text events.
RECIPE_PREFIX = "artforge.recipe:"
TICKS_PER_QUARTER = 480                        # 120 ticks a step: every step lands on a whole tick
TICKS_PER_STEP = TICKS_PER_QUARTER // STEPS_PER_QUARTER
_CHANNELS = [c for c in range(16) if c != 9]   # channel 10 (index 9) plays drums in General MIDI


def as_event_arrays(melodies) -> list[np.ndarray]:
    """Melodies in any of the usual shapes -> a list of 1-D int64 event arrays.

    Accepts one event array, a (B, T) array or tensor, a list of event arrays, a list of `Note`s, or a
    list of such lists.

    >>> [a.tolist() for a in as_event_arrays([[41, 0, 1], [43, 1, 0]])]
    [[41, 0, 1], [43, 1, 0]]
    >>> as_event_arrays([Note(60, 0, 2)])[0].tolist()
    [41, 0]
    """
    if hasattr(melodies, "detach"):                      # a torch tensor, without importing torch
        melodies = melodies.detach().cpu().numpy()
    if isinstance(melodies, np.ndarray):
        items = [melodies] if melodies.ndim == 1 else list(melodies)
    else:
        items = list(melodies)
        if not items or isinstance(items[0], Note) or np.isscalar(items[0]):
            items = [items]                              # one melody given as a flat list
    out = []
    for m in items:
        m = list(m) if not hasattr(m, "shape") else m
        ev = notes_to_events(m) if len(m) and isinstance(m[0], Note) else np.asarray(m, dtype=np.int64)
        if ev.ndim != 1:
            raise ValueError(f"a melody must be a 1-D event array, got shape {ev.shape}")
        if ev.size and (ev.min() < 0 or ev.max() >= N_CLASSES):
            raise ValueError(f"melody tokens must lie in 0..{N_CLASSES - 1}, got {ev.min()}..{ev.max()}")
        out.append(ev)
    return out


def concat(melodies, gap_steps: int = 0) -> np.ndarray:
    """One event array that plays `melodies` one after another, `gap_steps` of silence between them.

    >>> concat([[41, 0], [0, 43]], gap_steps=2).tolist()
    [41, 0, 1, 0, 1, 43]
    """
    if gap_steps < 0:
        raise UserError(f"gap_steps must be 0 or more, got {gap_steps}")
    parts: list[np.ndarray] = []
    for i, ev in enumerate(as_event_arrays(melodies)):
        ev = ev.copy()
        if i and gap_steps:
            parts.append(np.array([NOTE_OFF] + [NO_EVENT] * (gap_steps - 1), dtype=np.int64))
        if i and ev.size and ev[0] == NO_EVENT:
            # A leading NO_EVENT means silence on its own but "keep sounding" after another melody.
            ev[0] = NOTE_OFF
        parts.append(ev)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def write_midi(melodies, path: str | Path, *, tempo_bpm: float = 120.0, program: int = 0,
               recipe_text: str | None = None, velocity: int = 90,
               track_names: Iterable[str] | None = None) -> Path:
    """Write melodies (one track each) as a type-1 MIDI file, atomically; returns the path.

    `recipe_text` goes in a text event on the first track as RECIPE_PREFIX + text. Each track lasts its
    melody's full length, trailing rests included, so the file's duration is the melody's.
    """
    _check_params(tempo_bpm, program, velocity)
    events = as_event_arrays(melodies)
    names = list(track_names) if track_names is not None else [f"melody {i + 1}" for i in range(len(events))]
    if len(names) != len(events):
        raise ValueError(f"{len(names)} track names for {len(events)} melodies")
    conductor = mido.MidiTrack([
        mido.MetaMessage("track_name", name="artforge"),
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm)),
        mido.MetaMessage("time_signature", numerator=4, denominator=4),
    ])
    if recipe_text is not None:
        conductor.append(mido.MetaMessage("text", text=RECIPE_PREFIX + recipe_text))
    tracks = [conductor] + [_melody_track(ev, name, _CHANNELS[i % len(_CHANNELS)], program, velocity)
                            for i, (ev, name) in enumerate(zip(events, names))]
    # UTF-8 so that any recipe text survives; readers that assume Latin-1 still parse the file.
    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_QUARTER, charset="utf-8", tracks=tracks)
    atomic_save(path, lambda tmp: mid.save(str(tmp)))
    return Path(path)


def read_recipe_text(path: str | Path) -> str | None:
    """The recipe text written by `write_midi` (without its prefix), or None when the file has none."""
    p = Path(path)
    if not p.is_file():
        raise RecipeError(f"file not found: {p}")
    try:
        mid = mido.MidiFile(str(p))      # Latin-1 decoding never fails; UTF-8 is restored below
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError):
        raise RecipeError(f"{p} is not a readable MIDI file") from None
    for track in mid.tracks:
        for msg in track:
            if msg.type == "text" and msg.text.startswith(RECIPE_PREFIX):
                raw = msg.text[len(RECIPE_PREFIX):].encode("latin-1")
                return raw.decode("utf-8", errors="replace")
    return None


def replace_recipe_text(data: bytes, recipe_text: str | None) -> bytes:
    """The MIDI file `data` with its recipe text event set to `recipe_text`, or removed when None (the
    removed event's delta time goes to the next event, so nothing moves in time).

    >>> import io, tempfile
    >>> path = Path(tempfile.mkdtemp()) / "m.mid"
    >>> _ = write_midi(notes_to_events([Note(60, 0, 4)], 16), path, recipe_text='{"a":1}')
    >>> stripped = replace_recipe_text(path.read_bytes(), None)
    >>> _ = path.write_bytes(stripped); read_recipe_text(path) is None
    True
    """
    mid = mido.MidiFile(file=io.BytesIO(data), charset="utf-8")
    for track in mid.tracks:
        for i, msg in enumerate(list(track)):
            if msg.type == "text" and msg.text.startswith(RECIPE_PREFIX):
                if recipe_text is not None:
                    track[i] = msg.copy(text=RECIPE_PREFIX + recipe_text)
                else:
                    del track[i]
                    if i < len(track):
                        track[i] = track[i].copy(time=track[i].time + msg.time)
                break
    out = io.BytesIO()
    mid.charset = "utf-8"
    mid.save(file=out)
    return out.getvalue()


def _melody_track(events: np.ndarray, name: str, channel: int, program: int, velocity: int) -> mido.MidiTrack:
    timed: list[tuple[int, int, mido.Message]] = []       # (tick, order, message); note-offs sort first
    for n in events_to_notes(events):
        timed.append((n.start * TICKS_PER_STEP, 1, mido.Message("note_on", channel=channel, note=n.pitch,
                                                                velocity=velocity)))
        timed.append((n.end * TICKS_PER_STEP, 0, mido.Message("note_off", channel=channel, note=n.pitch,
                                                              velocity=0)))
    timed.sort(key=lambda t: (t[0], t[1]))
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name),
                            mido.Message("program_change", channel=channel, program=program)])
    now = 0
    for tick, _, msg in timed:
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=len(events) * TICKS_PER_STEP - now))
    return track


def _check_params(tempo_bpm: float, program: int, velocity: int) -> None:
    if not 1 <= tempo_bpm <= 1000:
        raise UserError(f"tempo_bpm must be between 1 and 1000, got {tempo_bpm}")
    if not 0 <= program <= 127:
        raise UserError(f"program must be a General MIDI program 0..127, got {program}")
    if not 1 <= velocity <= 127:
        raise UserError(f"velocity must be 1..127, got {velocity}")


__all__ = ["RECIPE_PREFIX", "as_event_arrays", "concat", "read_recipe_text", "write_midi"]
