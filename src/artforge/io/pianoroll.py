"""Piano rolls: melodies drawn as note bars on a keyboard grid, one row per melody, as a PNG.

Black-key lanes are shaded as on a piano roll in a DAW, every C is labelled (C4 is middle C), bars are
numbered and drawn darker than beats. All rows share one pitch range so that rows compare at a glance
(an interpolation reads top to bottom). Rendered with matplotlib's Agg canvas on a private Figure: no
pyplot, so nothing leaks into (or from) anyone else's plots.

>>> import tempfile, pathlib
>>> from artforge.io.notes import Note
>>> path = pathlib.Path(tempfile.mkdtemp()) / "roll.png"
>>> piano_roll([[Note(60, 0, 4), Note(64, 4, 8)]], path, titles=["a tune"]).name
'roll.png'
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from PIL import Image

from .. import __version__
from .images import save_png
from .midi import as_event_arrays
from .notes import STEPS_PER_QUARTER, events_to_notes

# The same key as provenance.recipe.RECIPE_KEY (io sits below provenance, so it cannot import it);
# tests read the PNG back with provenance.read_recipe, which keeps the two in step.
_RECIPE_KEY = "artforge.recipe"
NOTE_COLOR = "#1f6fb4"       # one strong colour: the notes are the figure, everything else is quiet
_NOTE_EDGE = "#0b3c66"
_BLACK_KEY_LANE = "#e9ecef"
_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
_BLACK = {1, 3, 6, 8, 10}
_DPI = 100


def note_name(pitch: int) -> str:
    """Scientific pitch notation, middle C = C4.

    >>> note_name(60), note_name(69), note_name(61)
    ('C4', 'A4', 'C#4')
    """
    return f"{_NAMES[pitch % 12]}{pitch // 12 - 1}"


def piano_roll(melodies, path: str | Path, *, titles: list[str] | None = None, steps_per_bar: int = 16,
               recipe_text: str | None = None) -> Path:
    """Draw melodies (event arrays or `Note` lists), one row each, to a PNG; returns the path.

    `recipe_text` (a JSON recipe) is stored in the PNG's `artforge.recipe` text chunk.
    """
    events = as_event_arrays(melodies)
    titles = list(titles) if titles is not None else [None] * len(events)
    if len(titles) != len(events):
        raise ValueError(f"{len(titles)} titles for {len(events)} melodies")
    notes = [events_to_notes(ev) for ev in events]
    n_steps = max([len(ev) for ev in events] + [steps_per_bar])
    lo, hi = _pitch_range([n.pitch for row in notes for n in row])

    # Width follows the music (about 1.4 inch a bar), height the pitch range, within readable limits.
    width_in = float(np.clip(1.2 + 0.09 * n_steps, 6.0, 22.0))
    row_in = float(np.clip(0.12 * (hi - lo + 1), 1.4, 3.6))
    row_in = max(1.0, min(row_in, 30.0 / len(events)))   # many rows (a long morph): keep the PNG printable
    fig = Figure(figsize=(width_in, 0.55 + row_in * len(events)), dpi=_DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(events), 1, sharex=True, squeeze=False)[:, 0]
    for ax, row, title in zip(axes, notes, titles):
        _draw_grid(ax, n_steps, lo, hi, steps_per_bar)
        if title:
            ax.set_title(title, loc="left", fontsize=9, pad=3)
    axes[-1].set_xlabel("bar", fontsize=9)
    fig.tight_layout(pad=0.4, h_pad=0.6)
    # Note bars go in after the layout is fixed, so that labels inside them can be sized in pixels.
    for ax, row in zip(axes, notes):
        _draw_notes(ax, row)
    fig.canvas.draw()
    image = Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    text = {"Software": f"artforge {__version__}"}
    if recipe_text is not None:
        text[_RECIPE_KEY] = recipe_text
    save_png(image, path, text)
    return Path(path)


def _pitch_range(pitches: list[int]) -> tuple[int, int]:
    """Lowest and highest pitch to show: the notes plus a margin, at least an octave and a half."""
    if not pitches:
        return 60, 72
    lo, hi = min(pitches) - 2, max(pitches) + 2
    short = 18 - (hi - lo)
    if short > 0:
        lo, hi = lo - short // 2, hi + short - short // 2
    return lo, hi


def _draw_grid(ax, n_steps: int, lo: int, hi: int, steps_per_bar: int) -> None:
    """Pitch lanes (black keys shaded, a line under each C), beat and bar lines, axes labels."""
    for p in range(lo, hi + 1):
        if p % 12 in _BLACK:
            ax.axhspan(p - 0.5, p + 0.5, color=_BLACK_KEY_LANE, lw=0, zorder=0)
        if p % 12 == 0:
            ax.axhline(p - 0.5, color="#adb5bd", lw=0.7, zorder=0.5)
    for s in range(0, n_steps + 1, STEPS_PER_QUARTER):
        bar = s % steps_per_bar == 0
        ax.axvline(s, color="#495057" if bar else "#ced4da", lw=1.1 if bar else 0.5, zorder=1)
    ax.set_xlim(0, n_steps)
    ax.set_ylim(lo - 0.5, hi + 0.5)
    starts = range(0, n_steps, steps_per_bar)
    ax.set_xticks([s + steps_per_bar / 2 for s in starts])
    ax.set_xticklabels([str(i + 1) for i in range(len(starts))], fontsize=8)
    ax.tick_params(axis="x", length=0)
    lane_px = ax.bbox.height / (hi - lo + 1)
    # Every natural when the lanes leave room for the text (E-F and B-C are neighbours), else C, E, G.
    names = {0, 2, 4, 5, 7, 9, 11} if lane_px >= 12 else {0, 4, 7}
    ticks = [p for p in range(lo, hi + 1) if p % 12 in names]
    ax.set_yticks(ticks)
    ax.set_yticklabels([note_name(p) for p in ticks], fontsize=7.5)
    for label, p in zip(ax.get_yticklabels(), ticks):
        if p % 12 == 0:
            label.set_fontweight("bold")                  # C is where a player finds their place
    ax.tick_params(axis="y", length=2, pad=2)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _draw_notes(ax, notes) -> None:
    """Rounded bars, with the note's name inside when the bar is wide enough to hold it."""
    x_px = ax.bbox.width / np.diff(ax.get_xlim())[0]
    y_px = ax.bbox.height / np.diff(ax.get_ylim())[0]
    bars = [FancyBboxPatch((n.start + 0.06, n.pitch - 0.42), n.end - n.start - 0.12, 0.84,
                           boxstyle="round,pad=0,rounding_size=0.15", mutation_aspect=x_px / y_px)
            for n in notes]
    ax.add_collection(PatchCollection(bars, facecolor=NOTE_COLOR, edgecolor=_NOTE_EDGE, lw=0.6, zorder=2))
    if y_px < 9:
        return
    for n in notes:
        if (n.end - n.start) * x_px >= 30:
            ax.text(n.start + 0.3, n.pitch, note_name(n.pitch), color="white", fontsize=min(7.0, 0.6 * y_px),
                    va="center_baseline", ha="left", zorder=3, clip_on=True)
