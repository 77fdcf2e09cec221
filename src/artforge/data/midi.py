"""Read a MIDI file into monophonic melodies on the 16th-note grid, or say why it cannot be used.

Each (track, channel) pair that plays notes is a part; drum parts (channel 10) are skipped. A part that
plays chords gives its top voice (the highest sounding pitch at every step, the "skyline"). Times are
taken in ticks, which count quarter notes whatever the tempo, so quantizing needs no tempo map; tempos
are still checked, as an absurd one marks a broken file.

>>> import io, mido
>>> mid = mido.MidiFile(ticks_per_beat=96)
>>> t = mido.MidiTrack(); mid.tracks.append(t)
>>> for pitch in (60, 62):
...     t += [mido.Message("note_on", note=pitch, velocity=80, time=0), mido.Message("note_off", note=pitch, time=96)]
>>> buf = io.BytesIO(); mid.save(file=buf)
>>> [m.tolist() for m in read_midi_bytes(buf.getvalue())]
[[41, 0, 0, 0, 43, 0, 0, 0]]
"""

from __future__ import annotations

import io
from pathlib import Path

import mido
import numpy as np

from .melody import STEPS_PER_QUARTER, Note, notes_to_events

DRUM_CHANNEL = 9                 # General MIDI channel 10, counted from 0
MIN_BPM, MAX_BPM = 10.0, 500.0   # outside this a tempo is a broken file, not music
MAX_STEPS = 16 * 2000            # 2,000 bars: longer parts are cut (a stuck note can make them endless)


class BadMidi(Exception):
    """A MIDI file that gives no melody; the message is the reason shown to the user."""


def read_midi(path: str | Path) -> list[np.ndarray]:
    """One event array per melodic part of the file at `path`; BadMidi says why there is none."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise BadMidi(f"unreadable: {e.strerror or e}") from None
    return read_midi_bytes(data)


def read_midi_bytes(data: bytes) -> list[np.ndarray]:
    if len(data) == 0:
        raise BadMidi("zero bytes")
    if not data.startswith(b"MThd"):
        raise BadMidi("not a MIDI file (no MThd header)")
    try:
        mid = mido.MidiFile(file=io.BytesIO(data), clip=True)
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as e:
        raise BadMidi(f"damaged MIDI file ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    if mid.type == 2:
        raise BadMidi("type-2 MIDI (independent sequences) is not supported; export it as type 0 or 1")
    if mid.ticks_per_beat <= 0:
        raise BadMidi("SMPTE time division is not supported; export with ticks per beat")
    parts = _parts(mid)
    if not parts:
        raise BadMidi("no notes (an empty or zero-length MIDI file)")
    melodic = {k: v for k, v in parts.items() if k[1] != DRUM_CHANNEL}
    if not melodic:
        raise BadMidi("no melodic track (drums only)")
    out = []
    for key in sorted(melodic):
        ev = notes_to_events(skyline(melodic[key]))
        if (ev >= 2).sum() >= 2:
            out.append(ev[:MAX_STEPS])
    if not out:
        raise BadMidi("no melodic track with at least two notes")
    return out


def _parts(mid: mido.MidiFile) -> dict[tuple[int, int], list[Note]]:
    """Notes per (track, channel), in steps; also checks the tempos."""
    scale = STEPS_PER_QUARTER / mid.ticks_per_beat
    parts: dict[tuple[int, int], list[Note]] = {}
    for ti, track in enumerate(mid.tracks):
        tick = 0
        on: dict[tuple[int, int], int] = {}           # (channel, pitch) -> onset tick
        restruck: dict[tuple[int, int], int] = {}     # (channel, pitch) -> tick it was struck again
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                bpm = mido.tempo2bpm(msg.tempo) if msg.tempo > 0 else float("inf")
                if not MIN_BPM <= bpm <= MAX_BPM:
                    raise BadMidi(f"absurd tempo ({bpm:.0f} bpm; expected {MIN_BPM:.0f}-{MAX_BPM:.0f})")
            elif msg.type == "note_on" and msg.velocity > 0:
                key = (msg.channel, msg.note)
                if key in on:                           # re-struck without a note-off: end the old one here
                    _add(parts, ti, msg.channel, msg.note, on.pop(key), tick, scale)
                    restruck[key] = tick
                on[key] = tick
            elif msg.type in ("note_off", "note_on"):
                key = (msg.channel, msg.note)
                if restruck.pop(key, None) == tick and on.get(key) == tick:
                    continue                            # the old note's late note-off, same tick as the new onset
                start = on.pop(key, None)
                if start is not None:
                    _add(parts, ti, msg.channel, msg.note, start, tick, scale)
        for (channel, pitch), start in on.items():     # never released: ends with the track
            _add(parts, ti, channel, pitch, start, tick, scale)
    return parts


def _add(parts, track: int, channel: int, pitch: int, start_tick: int, end_tick: int, scale: float) -> None:
    start = int(round(start_tick * scale))
    end = max(int(round(end_tick * scale)), start + 1) if end_tick > start_tick else start
    if end > start:                                    # zero-length notes (grace notes) are dropped
        parts.setdefault((track, channel), []).append(Note(pitch, start, end))


def skyline(notes: list[Note]) -> list[Note]:
    """The top voice: at every step the highest sounding pitch; a note starts where the top changes or
    where the top pitch is struck again. Monophonic input comes back unchanged.

    >>> skyline([Note(60, 0, 8), Note(64, 0, 4), Note(55, 4, 8)])
    [Note(pitch=64, start=0, end=4), Note(pitch=60, start=4, end=8)]
    """
    if not notes:
        return []
    length = min(max(n.end for n in notes), MAX_STEPS)
    top = np.full(length, -1, dtype=np.int64)
    struck = np.zeros(length, dtype=bool)
    for n in notes:
        s, e = n.start, min(n.end, length)
        if s >= length:
            continue
        window = top[s:e]
        window[window < n.pitch] = n.pitch
    for n in notes:                  # after all tops are known: an onset counts where its pitch is on top
        if n.start < length and top[n.start] == n.pitch:
            struck[n.start] = True
    out: list[Note] = []
    t = 0
    while t < length:
        if top[t] < 0:
            t += 1
            continue
        start, pitch = t, int(top[t])
        t += 1
        while t < length and top[t] == pitch and not struck[t]:
            t += 1
        out.append(Note(pitch, start, t))
    return out
