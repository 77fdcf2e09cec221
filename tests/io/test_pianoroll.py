"""Piano rolls: a PNG of sensible size, notes drawn where their row and pitch say, recipe readable."""

from __future__ import annotations

import json

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from PIL import Image

from artforge.data.melody import Note, notes_to_events
from artforge.io.pianoroll import NOTE_COLOR, note_name, piano_roll
from artforge.provenance import read_recipe


def _note_mask(path) -> np.ndarray:
    """Pixels painted in the note colour."""
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
    want = np.array([round(c * 255) for c in to_rgb(NOTE_COLOR)])
    return np.abs(rgb - want).sum(axis=-1) < 12


def test_png_of_readable_size(tmp_path):
    path = piano_roll([notes_to_events([Note(60, 0, 4)], 32)] * 3, tmp_path / "r.png", titles=["a", "b", "c"])
    with Image.open(path) as im:
        assert im.format == "PNG"
        w, h = im.size
    assert 500 <= w <= 2400 and 3 * 100 <= h <= 3000


def test_notes_are_drawn_in_their_row_and_at_their_pitch(tmp_path):
    high = [Note(84, 0, 8)]                      # first row, top of the shared pitch range
    low = [Note(48, 8, 16)]                      # second row, bottom, second half of the bar
    mask = _note_mask(piano_roll([high, low], tmp_path / "r.png"))
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    assert len(ys) > 200                         # real bars, not a stray pixel
    top, bottom = mask[: h // 2], mask[h // 2:]
    assert top.any() and bottom.any()
    # High note near the top of row 1, starting at the left; low note near the bottom of row 2, on the right.
    t_ys, t_xs = np.nonzero(top)
    b_ys, b_xs = np.nonzero(bottom)
    assert t_ys.mean() < h / 8 and b_ys.mean() > h / 2 - h / 8
    assert t_xs.mean() < w / 2 < b_xs.mean()


def test_empty_melody_draws_no_notes(tmp_path):
    path = piano_roll([np.zeros(16, dtype=np.int64)], tmp_path / "e.png")
    assert not _note_mask(path).any()
    assert path.is_file()


def test_recipe_is_readable_from_the_png(tmp_path):
    recipe = {"pipeline": "interpolate", "params": {"steps": 5}}
    path = piano_roll([[Note(60, 0, 4)]], tmp_path / "r.png", recipe_text=json.dumps(recipe))
    assert read_recipe(path) == recipe


@pytest.mark.parametrize("pitch,name", [(60, "C4"), (69, "A4"), (21, "A0"), (108, "C8"), (70, "A#4")])
def test_note_names(pitch, name):
    assert note_name(pitch) == name


def test_long_morph_stays_printable(tmp_path):
    rows = [notes_to_events([Note(60 + i, 0, 16)], 64) for i in range(16)]
    with Image.open(piano_roll(rows, tmp_path / "m.png")) as im:
        assert im.height <= 3100 and im.width <= 2300
