"""Melodies for training: the event encoding (from `artforge.io.notes`) and the attributes a user steers.

The encoding lives in io/ (a leaf) because the MIDI, WAV and piano-roll writers need it too; it is
imported here so that data, models, pipelines and the studio keep one place to take melody names from.

>>> ev = notes_to_events([Note(60, 0, 4), Note(62, 4, 6)], 8)
>>> attribute_values(ev)["density"]
4.0
"""

from __future__ import annotations

import numpy as np

from ..io.notes import (FIRST_PITCH_TOKEN, MAX_PITCH, MIN_PITCH, N_CLASSES, NO_EVENT, NOTE_OFF, STEPS_PER_BAR,
                        STEPS_PER_QUARTER, Note, events_to_notes, notes_to_events, pitch_token, token_pitch,
                        transpose)

__all__ = ["ATTRIBUTES", "FIRST_PITCH_TOKEN", "MAX_PITCH", "MIN_PITCH", "N_CLASSES", "NOTE_OFF", "NO_EVENT",
           "STEPS_PER_BAR", "STEPS_PER_QUARTER", "Note", "attribute_values", "events_to_notes", "notes_to_events",
           "pitch_token", "token_pitch", "transpose"]


# -- attributes: what `--attribute name=amount` steers -----------------------------------------------
ATTRIBUTES = {
    "density": "notes per bar",
    "pitch": "mean pitch (MIDI note number)",
    "range": "highest minus lowest pitch, in semitones",
    "stepwise": "fraction of intervals that are a step (1 or 2 semitones)",
}


def attribute_values(events) -> dict[str, float]:
    """The ATTRIBUTES of one melody.

    >>> attribute_values(notes_to_events([Note(60, 0, 4), Note(62, 4, 8), Note(67, 8, 16)], 16))
    {'density': 3.0, 'pitch': 63.0, 'range': 7.0, 'stepwise': 0.5}
    """
    notes = events_to_notes(events)
    pitches = np.array([n.pitch for n in notes], dtype=np.float64)
    bars = max(len(events) / STEPS_PER_BAR, 1e-9)
    if not len(pitches):
        return {"density": 0.0, "pitch": float("nan"), "range": 0.0, "stepwise": float("nan")}
    steps = np.abs(np.diff(pitches))
    return {"density": len(pitches) / bars, "pitch": float(pitches.mean()),
            "range": float(pitches.max() - pitches.min()),
            "stepwise": float(((steps >= 1) & (steps <= 2)).mean()) if len(steps) else float("nan")}
