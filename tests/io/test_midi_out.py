"""MIDI out: notes survive a write -> read by other tools, recipes round-trip, bad files fail in one line."""

from __future__ import annotations

import json

import mido
import numpy as np
import pretty_midi
import pytest

from artforge.data.melody import NOTE_OFF, Note, events_to_notes, notes_to_events
from artforge.errors import RecipeError, UserError
from artforge.io.midi import RECIPE_PREFIX, as_event_arrays, concat, read_recipe_text, write_midi
from artforge.provenance import read_recipe
from artforge.provenance.write import save_midi

TUNE = [Note(60, 0, 4), Note(62, 4, 6), Note(64, 7, 8), Note(67, 8, 15), Note(72, 15, 16), Note(48, 20, 31)]
OTHER = [Note(81, 0, 1), Note(79, 1, 2), Note(76, 4, 12)]


def _steps(pm: pretty_midi.PrettyMIDI, tempo_bpm: float) -> list[list[tuple[int, int, int]]]:
    step_s = 60 / tempo_bpm / 4
    return [[(n.pitch, round(n.start / step_s), round(n.end / step_s)) for n in inst.notes]
            for inst in pm.instruments]


@pytest.mark.parametrize("tempo_bpm", [120.0, 97.0])
def test_every_note_keeps_pitch_start_end_in_steps(tmp_path, tempo_bpm):
    melodies = [notes_to_events(TUNE, 32), notes_to_events(OTHER, 16)]
    path = write_midi(melodies, tmp_path / "two.mid", tempo_bpm=tempo_bpm, program=40, velocity=80)
    pm = pretty_midi.PrettyMIDI(str(path))
    want = [[tuple(n) for n in events_to_notes(ev)] for ev in melodies]
    assert _steps(pm, tempo_bpm) == want
    assert [i.program for i in pm.instruments] == [40, 40]
    assert all(n.velocity == 80 for i in pm.instruments for n in i.notes)
    assert pm.get_tempo_changes()[1][0] == pytest.approx(tempo_bpm, rel=1e-4)

    mid = mido.MidiFile(str(path))
    assert mid.type == 1 and len(mid.tracks) == 3                 # conductor + one track per melody
    assert mid.length == pytest.approx(32 * 60 / tempo_bpm / 4, rel=1e-4)   # trailing rests are kept
    channels = [{m.channel for m in t if m.type == "note_on"} for t in mid.tracks[1:]]
    assert channels[0] != channels[1] and 9 not in channels[0] | channels[1]  # never the drum channel


def test_one_melody_and_note_lists_are_accepted(tmp_path):
    path = write_midi(notes_to_events(TUNE), tmp_path / "one.mid")
    assert _steps(pretty_midi.PrettyMIDI(str(path)), 120) == [[tuple(n) for n in TUNE]]
    assert [a.tolist() for a in as_event_arrays(TUNE)] == [notes_to_events(TUNE).tolist()]
    assert len(as_event_arrays(np.zeros((3, 8), dtype=np.int64))) == 3


def test_concat_plays_melodies_one_after_another():
    a, b = notes_to_events([Note(60, 0, 4)], 4), notes_to_events([Note(64, 1, 3)], 4)   # b starts with a rest
    joined = concat([a, b])
    assert joined[4] == NOTE_OFF                                   # a's last note does not run into b's rest
    assert events_to_notes(joined) == [Note(60, 0, 4), Note(64, 5, 7)]
    assert events_to_notes(concat([a, b], gap_steps=3)) == [Note(60, 0, 4), Note(64, 8, 10)]


@pytest.mark.parametrize("size", [20, 5000])
def test_recipe_text_round_trips(tmp_path, size):
    text = json.dumps({"pipeline": "sample", "note": "é♪" + "x" * size}, ensure_ascii=False)
    path = write_midi(notes_to_events(TUNE), tmp_path / "r.mid", recipe_text=text)
    assert read_recipe_text(path) == text
    first = mido.MidiFile(str(path)).tracks[0]
    assert any(m.type == "text" and m.text.startswith(RECIPE_PREFIX) for m in first)
    assert pretty_midi.PrettyMIDI(str(path)).instruments          # other tools still read the file


def test_no_recipe_is_none_and_read_recipe_says_so(tmp_path):
    path = write_midi(notes_to_events(TUNE), tmp_path / "plain.mid")
    assert read_recipe_text(path) is None
    with pytest.raises(RecipeError, match="carries no artforge recipe"):
        read_recipe(path)


def test_save_midi_redacts_and_strips(tmp_path):
    recipe = {"pipeline": "sample", "params": {"seed": 3, "temperature": 0.9}, "blob": "y" * 5000}
    path = save_midi([notes_to_events(TUNE)], tmp_path / "s.mid", recipe, tempo_bpm=100,
                     redact_fields="params.seed")
    got = read_recipe(path)
    assert got["params"] == {"temperature": 0.9} and got["redacted"] == ["params.seed"]
    assert got["blob"] == "y" * 5000
    stripped = save_midi([notes_to_events(TUNE)], tmp_path / "n.midi", None, tempo_bpm=100)
    assert read_recipe_text(stripped) is None
    with pytest.raises(UserError, match=r"\.mid"):
        save_midi([notes_to_events(TUNE)], tmp_path / "s.wav", recipe, tempo_bpm=100)


@pytest.mark.parametrize("content", [b"", b"MThd", b"not a midi file at all", b"\x89PNG\r\n\x1a\n" + b"0" * 64])
def test_non_midi_file_is_a_one_line_recipe_error(tmp_path, content):
    path = tmp_path / "fake.mid"
    path.write_bytes(content)
    with pytest.raises(RecipeError) as e:
        read_recipe(path)
    assert "not a readable MIDI file" in str(e.value) and "\n" not in str(e.value)


def test_truncated_midi_is_a_recipe_error(tmp_path):
    path = write_midi(notes_to_events(TUNE), tmp_path / "t.mid", recipe_text="{}")
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(RecipeError):
        read_recipe_text(path)


def test_bad_parameters_are_user_errors(tmp_path):
    for kwargs in ({"tempo_bpm": 0}, {"program": 128}, {"velocity": 0}):
        with pytest.raises(UserError):
            write_midi(notes_to_events(TUNE), tmp_path / "x.mid", **kwargs)
    assert not (tmp_path / "x.mid").exists()


def test_cli_recipe_prints_the_json(tmp_path, capsys):
    from artforge.cli.main import main

    recipe = {"pipeline": "compose", "params": {"seed": 7}, "output": "melody"}
    path = save_midi([notes_to_events(TUNE)], tmp_path / "tune.mid", recipe, tempo_bpm=120)
    assert main(["recipe", str(path)]) == 0
    assert json.loads(capsys.readouterr().out) == recipe
    (tmp_path / "bad.mid").write_bytes(b"junk")
    assert main(["recipe", str(tmp_path / "bad.mid")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
