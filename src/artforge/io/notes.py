"""Monophonic melodies as event sequences on a 16th-note grid (the MusicVAE melody encoding).

One token per 16th note: NO_EVENT (0) keeps whatever is sounding, NOTE_OFF (1) silences it, and
2 + (pitch - MIN_PITCH) starts a note (which also ends the previous one). A bar is STEPS_PER_BAR = 16
steps (four quarter notes), whatever the piece's own time signature: windows are counted in these bars.

A leaf like the rest of io/: MIDI, WAV and piano-roll writers read and write these tokens, and data/
(melody.py) builds the training windows and their attributes on them.

>>> ev = notes_to_events([Note(60, 0, 4), Note(62, 4, 6)], 8)
>>> ev.tolist()
[41, 0, 0, 0, 43, 0, 1, 0]
>>> events_to_notes(ev)
[Note(pitch=60, start=0, end=4), Note(pitch=62, start=4, end=6)]
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

STEPS_PER_QUARTER = 4
STEPS_PER_BAR = 16
MIN_PITCH, MAX_PITCH = 21, 108          # the piano's range, A0..C8
NO_EVENT, NOTE_OFF = 0, 1
FIRST_PITCH_TOKEN = 2
N_CLASSES = FIRST_PITCH_TOKEN + MAX_PITCH - MIN_PITCH + 1   # 90


class Note(NamedTuple):
    pitch: int      # MIDI note number
    start: int      # 16th-note steps from the start of the melody
    end: int        # exclusive


def pitch_token(pitch: int) -> int:
    return FIRST_PITCH_TOKEN + int(pitch) - MIN_PITCH


def token_pitch(token: int) -> int:
    return int(token) - FIRST_PITCH_TOKEN + MIN_PITCH


def notes_to_events(notes: list[Note], n_steps: int | None = None) -> np.ndarray:
    """(n_steps,) int64 tokens; notes must not overlap (a later onset cuts the sounding note short).

    Notes outside MIN_PITCH..MAX_PITCH are moved by octaves into range; zero-length notes are dropped.
    """
    notes = sorted((n for n in notes if n.end > n.start), key=lambda n: (n.start, -n.pitch))
    length = n_steps if n_steps is not None else max((n.end for n in notes), default=0)
    ev = np.zeros(length, dtype=np.int64)
    sounding_until = -1
    for n in notes:
        if n.start >= length:
            break
        if n.start < sounding_until and ev[n.start] >= FIRST_PITCH_TOKEN:
            continue                     # two onsets on one step: the higher pitch (sorted first) wins
        ev[n.start] = pitch_token(_in_range(n.pitch))
        if n.start + 1 < length:
            ev[n.start + 1:min(n.end, length)] = NO_EVENT
        if n.end < length:
            ev[n.end] = NOTE_OFF if ev[n.end] < FIRST_PITCH_TOKEN else ev[n.end]
        sounding_until = n.end
    return ev


def events_to_notes(events) -> list[Note]:
    """The notes an event sequence plays; a note still sounding at the end stops there."""
    out: list[Note] = []
    pitch, start = None, 0
    ev = np.asarray(events)
    for t, tok in enumerate(ev.tolist()):
        if tok == NO_EVENT:
            continue
        if pitch is not None:
            out.append(Note(pitch, start, t))
            pitch = None
        if tok >= FIRST_PITCH_TOKEN:
            pitch, start = token_pitch(tok), t
    if pitch is not None:
        out.append(Note(pitch, start, len(ev)))
    return out


def transpose(events: np.ndarray, semitones: int) -> np.ndarray | None:
    """The melody moved by `semitones`, or None when a note would leave the token range."""
    ev = np.asarray(events)
    notes = ev >= FIRST_PITCH_TOKEN
    moved = ev.copy()
    moved[notes] += semitones
    if notes.any() and (moved[notes].min() < FIRST_PITCH_TOKEN or moved[notes].max() >= N_CLASSES):
        return None
    return moved


def _in_range(pitch: int) -> int:
    while pitch < MIN_PITCH:
        pitch += 12
    while pitch > MAX_PITCH:
        pitch -= 12
    return pitch
