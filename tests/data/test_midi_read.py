"""Reading MIDI files into melodies: round trips, parts, drums, the skyline, odd note messages, and a
folder of broken files that must each be skipped with the right reason (and a CLI that says so in one line)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import mido
import numpy as np
import pytest
from PIL import Image

from artforge.data.melody import Note, events_to_notes, notes_to_events
from artforge.data.midi import BadMidi, read_midi, read_midi_bytes, skyline
from artforge.data.music import MusicDataConfig, load_melodies, read_midi_folder
from artforge.errors import DataError
from artforge.io.midi import write_midi

TPB = 96                    # ticks per quarter in the hand-made files
STEP = TPB // 4             # ticks per 16th-note step


# -- tiny helpers that make MIDI files ---------------------------------------------------------------

def on(pitch: int, channel: int = 0, velocity: int = 80) -> mido.Message:
    return mido.Message("note_on", note=pitch, velocity=velocity, channel=channel)


def off(pitch: int, channel: int = 0) -> mido.Message:
    return mido.Message("note_off", note=pitch, channel=channel)


def track(timed) -> mido.MidiTrack:
    """A track from (absolute tick, message) pairs, in the order given (ties keep their order)."""
    t, now = mido.MidiTrack(), 0
    for tick, msg in sorted(timed, key=lambda p: p[0]):
        t.append(msg.copy(time=tick - now))
        now = tick
    return t


def notes_timed(notes, channel: int = 0, step: int = STEP) -> list:
    """(tick, message) pairs playing Note(pitch, start, end) in steps; note-offs before note-ons at a tie."""
    out = []
    for n in notes:
        out += [(n.end * step, off(n.pitch, channel)), (n.start * step, on(n.pitch, channel))]
    return sorted(out, key=lambda p: (p[0], p[1].type == "note_on"))


def midi_bytes(*tracks, type: int = 1, tpb: int = TPB) -> bytes:
    mid = mido.MidiFile(type=type, ticks_per_beat=tpb)
    mid.tracks.extend(tracks)
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def one_part(timed, **kw) -> list[int]:
    parts = read_midi_bytes(midi_bytes(track(timed), **kw))
    assert len(parts) == 1
    return parts[0].tolist()


def retime(path: Path, tpb: int) -> None:
    """Rewrite a write_midi file (480 ticks per quarter) at `tpb` ticks per quarter, same music."""
    mid = mido.MidiFile(str(path))
    assert mid.ticks_per_beat == 480
    for t in mid.tracks:
        for msg in t:
            assert msg.time * tpb % 480 == 0
            msg.time = msg.time * tpb // 480
    mid.ticks_per_beat = tpb
    mid.save(str(path))


# A melody with steps, leaps, a rest, a 16th, the piano's extremes, ending with a note that sounds to the end.
MELODY = [Note(60, 0, 4), Note(62, 4, 6), Note(64, 8, 9), Note(67, 9, 12), Note(108, 12, 14), Note(21, 14, 16),
          Note(72, 20, 28), Note(71, 28, 32)]


# -- round trips -------------------------------------------------------------------------------------

@pytest.mark.parametrize("tempo_bpm", [60, 180])
@pytest.mark.parametrize("tpb", [480, 96])
def test_round_trip_keeps_the_events(tmp_path, tempo_bpm, tpb):
    events = notes_to_events(MELODY, 32)
    path = write_midi(events, tmp_path / "tune.mid", tempo_bpm=tempo_bpm)
    if tpb != 480:
        retime(path, tpb)
    assert mido.MidiFile(str(path)).ticks_per_beat == tpb
    parts = read_midi(path)
    assert len(parts) == 1 and parts[0].dtype == np.int64
    assert parts[0].tolist() == events.tolist()
    assert events_to_notes(parts[0]) == MELODY
    # and back out again: the same file content
    again = write_midi(parts[0], tmp_path / "again.mid", tempo_bpm=tempo_bpm)
    if tpb != 480:
        retime(again, tpb)
    assert read_midi(again)[0].tolist() == events.tolist()


def test_round_trip_of_several_melodies_keeps_their_order(tmp_path):
    a = notes_to_events([Note(60, 0, 4), Note(64, 4, 8)], 8)
    b = notes_to_events([Note(48, 0, 2), Note(50, 2, 4), Note(52, 4, 8)], 8)
    parts = read_midi(write_midi([a, b], tmp_path / "two.mid"))
    assert [p.tolist() for p in parts] == [a.tolist(), b.tolist()]


def test_trailing_rest_is_not_part_of_the_melody_but_the_notes_are_kept(tmp_path):
    events = notes_to_events([Note(60, 0, 4), Note(62, 4, 8)], 16)     # a half-bar rest at the end
    got = read_midi(write_midi(events, tmp_path / "rest.mid"))[0]
    assert events_to_notes(got) == events_to_notes(events)
    assert got.tolist() == events[:8].tolist()


def test_off_grid_times_quantize_to_the_nearest_step():
    timed = [  # (tick, message) at 96 ticks per quarter, 24 ticks a step, everything a little early or late
        (3, on(67)), (46, on(65)), (50, off(67)),          # legato: 65 starts before 67 stops
        (95, on(64)), (98, off(65)),
        (190, off(64)), (193, on(60)), (385, off(60)),
    ]
    expected = notes_to_events([Note(67, 0, 2), Note(65, 2, 4), Note(64, 4, 8), Note(60, 8, 16)], 16)
    assert one_part(timed) == expected.tolist()


def test_ticks_count_quarters_whatever_the_tempo():
    notes = [Note(60, 0, 4), Note(62, 4, 8)]
    for bpm in (40, 240):
        timed = [(0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm)))] + notes_timed(notes)
        assert one_part(timed) == notes_to_events(notes).tolist()


# -- parts, channels, drums --------------------------------------------------------------------------

def test_type0_file_with_two_channels_gives_two_parts():
    high = [Note(72, 0, 4), Note(74, 4, 8), Note(76, 8, 12), Note(77, 12, 16)]
    low = [Note(48, 0, 8), Note(50, 8, 16)]
    data = midi_bytes(track(notes_timed(high, 0) + notes_timed(low, 1)), type=0)
    assert mido.MidiFile(file=io.BytesIO(data)).type == 0
    parts = read_midi_bytes(data)
    assert [p.tolist() for p in parts] == [notes_to_events(high).tolist(), notes_to_events(low).tolist()]


def test_drum_channel_is_skipped():
    melody = [Note(60, 0, 4), Note(62, 4, 8), Note(64, 8, 16)]
    drums = [Note(36, s, s + 1) for s in range(0, 16, 2)] + [Note(42, s, s + 1) for s in range(1, 16, 2)]
    parts = read_midi_bytes(midi_bytes(track(notes_timed(drums, 9) + notes_timed(melody, 0)), type=0))
    assert [p.tolist() for p in parts] == [notes_to_events(melody).tolist()]
    # drums alone on their own track, melody on another: still just the melody
    parts = read_midi_bytes(midi_bytes(track(notes_timed(drums, 9)), track(notes_timed(melody, 3))))
    assert [p.tolist() for p in parts] == [notes_to_events(melody).tolist()]


# -- chords: the top voice ----------------------------------------------------------------------------

@pytest.mark.parametrize("chord_notes, top", [
    pytest.param([Note(60, 0, 8), Note(64, 0, 8), Note(67, 0, 8), Note(62, 8, 16), Note(65, 8, 16),
                  Note(69, 8, 16)], [Note(67, 0, 8), Note(69, 8, 16)], id="block-chords"),
    pytest.param([Note(72, 0, 16), Note(60, 4, 8), Note(62, 8, 12), Note(55, 12, 20), Note(74, 16, 20)],
                 [Note(72, 0, 16), Note(74, 16, 20)], id="low-notes-under-a-held-high-note-do-not-split-it"),
    pytest.param([Note(72, 0, 4), Note(48, 0, 8)], [Note(72, 0, 4), Note(48, 4, 8)],
                 id="top-falls-to-a-held-lower-note"),
    pytest.param([Note(72, 0, 4), Note(72, 4, 8), Note(60, 0, 8)], [Note(72, 0, 4), Note(72, 4, 8)],
                 id="top-re-struck-over-a-held-lower-note"),
    pytest.param([Note(60, 0, 8), Note(67, 2, 4), Note(64, 4, 6)],
                 [Note(60, 0, 2), Note(67, 2, 4), Note(64, 4, 6), Note(60, 6, 8)], id="inner-notes-above-a-pedal"),
])
def test_chord_part_gives_its_top_voice(chord_notes, top):
    assert one_part(notes_timed(chord_notes)) == notes_to_events(top).tolist()


def test_skyline_leaves_a_monophonic_line_unchanged():
    rng = np.random.default_rng(0)
    for _ in range(20):
        t, notes = 0, []
        while t < 64:
            t += int(rng.integers(0, 3))                       # sometimes a rest
            d = int(rng.integers(1, 6))
            notes.append(Note(int(rng.integers(40, 90)), t, t + d))
            t += d
        assert skyline(notes) == notes


# -- odd note messages ---------------------------------------------------------------------------------

def test_note_on_with_velocity_zero_is_a_note_off():
    zero = [(0, on(60)), (96, on(60, velocity=0)), (96, on(62)), (192, on(62, velocity=0))]
    offs = [(0, on(60)), (96, off(60)), (96, on(62)), (192, off(62))]
    assert one_part(zero) == one_part(offs) == [41, 0, 0, 0, 43, 0, 0, 0]
    with_rest = [(0, on(60)), (48, on(60, velocity=0)), (96, on(62)), (192, on(62, velocity=0))]
    assert one_part(with_rest) == [41, 0, 1, 0, 43, 0, 0, 0]


def test_re_struck_note_without_a_note_off_starts_a_new_note():
    timed = [(0, on(60)), (96, on(60)), (192, off(60)), (192, on(62)), (288, off(62))]
    assert one_part(timed) == [41, 0, 0, 0, 41, 0, 0, 0, 43, 0, 0, 0]


def test_note_never_released_ends_with_its_track():
    t = track([(0, on(60)), (96, off(60)), (96, on(64))])
    t.append(mido.MetaMessage("end_of_track", time=192))
    assert read_midi_bytes(midi_bytes(t))[0].tolist() == [41, 0, 0, 0] + [45] + [0] * 7


def test_repeated_note_with_note_on_before_note_off_at_the_same_tick():
    # Notes (72, 0-4) and (72, 4-8) written with the new note-on before the old note-off at tick 96.
    # The note-off belongs to the note that started at tick 0; pretty_midi reads it that way too.
    timed = [(0, on(72)), (96, on(72)), (96, off(72)), (192, off(72)), (192, on(74)), (288, off(74))]
    assert one_part(timed) == [53, 0, 0, 0, 53, 0, 0, 0, 55, 0, 0, 0]


# -- broken files -----------------------------------------------------------------------------------

def two_notes(*extra_first, channel: int = 0, tpb: int = TPB, type: int = 1) -> bytes:
    return midi_bytes(track(list(extra_first) + notes_timed([Note(60, 0, 4), Note(62, 4, 8)], channel)),
                      tpb=tpb, type=type)


def good_tune(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pitches = 60 + np.cumsum(rng.integers(-2, 3, 16))
    return notes_to_events([Note(int(p), 4 * i, 4 * i + 4) for i, p in enumerate(pitches)])


def slowest_tempo_bytes() -> bytes:
    # 0xFFFFFF us a quarter (about 3.6 bpm) is the slowest tempo a MIDI file can state; 2 bpm does not fit.
    return two_notes((0, mido.MetaMessage("set_tempo", tempo=0xFFFFFF)))


BAD = {  # file name -> (bytes maker, key words its reason must contain)
    "text.mid": (lambda: b"MIDI? no, just a text file\n", "not a MIDI file"),
    "empty.mid": (lambda: b"", "zero bytes"),
    "picture.png": (None, "not a MIDI file"),
    "picture_renamed.mid": (None, "not a MIDI file"),
    "truncated.mid": (lambda: two_notes()[:-7], "damaged"),
    "type2.mid": (lambda: midi_bytes(track(notes_timed([Note(60, 0, 4), Note(62, 4, 8)])),
                                     track(notes_timed([Note(64, 0, 4), Note(65, 4, 8)])), type=2), "type-2"),
    "fast.mid": (lambda: two_notes((0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(1000)))), "absurd tempo"),
    "slow.mid": (slowest_tempo_bytes, "absurd tempo"),
    "drums.mid": (lambda: two_notes(channel=9), "drums"),
    "one_note.mid": (lambda: midi_bytes(track(notes_timed([Note(60, 0, 4)]))), "at least two notes"),
    "empty_track.mid": (lambda: midi_bytes(mido.MidiTrack()), "no notes"),
}


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, format="PNG")
    return buf.getvalue()


def make_bad_files(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (make, _) in BAD.items():
        (folder / name).write_bytes(png_bytes() if make is None else make())


@pytest.fixture
def messy_folder(tmp_path) -> Path:
    folder = tmp_path / "midi"
    make_bad_files(folder)
    write_midi(good_tune(1), folder / "good_a.mid")
    (folder / "sub").mkdir()
    write_midi(good_tune(2), folder / "sub" / "good_b.mid")
    (folder / "good_a_copy.mid").write_bytes((folder / "good_a.mid").read_bytes())
    return folder


def test_each_bad_file_is_read_as_bad_midi(tmp_path):
    make_bad_files(tmp_path)
    for name, (_, words) in BAD.items():
        if not name.endswith(".mid"):
            continue
        with pytest.raises(BadMidi, match=re.escape(words)):
            read_midi(tmp_path / name)


def test_folder_lists_every_bad_file_with_its_reason_and_keeps_the_good_ones(messy_folder):
    report = read_midi_folder(messy_folder, MusicDataConfig(path=str(messy_folder)))
    reasons = {b.path: b.reason for b in report.bad}
    expected = {name: words for name, (_, words) in BAD.items()} | {"good_a_copy.mid": "duplicate of good_a.mid"}
    assert set(reasons) == set(expected)
    for name, words in expected.items():
        assert words in reasons[name], (name, reasons[name])
        assert "\n" not in reasons[name]
    assert [f["path"] for f in report.files] == ["good_a.mid", "sub/good_b.mid"]
    assert [name for name, _ in report.tunes] == ["good_a.mid#0", "sub/good_b.mid#0"]
    assert report.tunes[0][1].tolist() == good_tune(1).tolist()
    assert report.tunes[1][1].tolist() == good_tune(2).tolist()
    summary = report.summary(limit=100)
    assert all(name in summary for name in expected)


def test_max_files_reads_only_the_first_files(messy_folder):
    report = read_midi_folder(messy_folder, MusicDataConfig(path=str(messy_folder), max_files=3))
    # sorted paths: drums.mid, empty.mid, empty_track.mid
    assert {b.path for b in report.bad} == {"drums.mid", "empty.mid", "empty_track.mid"}
    assert report.files == []


def test_load_melodies_on_only_bad_files_raises_one_line_naming_the_folder(tmp_path):
    folder = tmp_path / "broken"
    make_bad_files(folder)
    with pytest.raises(DataError) as err:
        load_melodies(MusicDataConfig(path=str(folder)))
    msg = str(err.value)
    assert str(folder.resolve()) in msg and "\n" not in msg
    assert "no usable MIDI files" in msg and f"{len(BAD)} file(s) skipped" in msg


def test_load_melodies_on_a_missing_folder_names_it(tmp_path):
    with pytest.raises(DataError, match=re.escape(str(tmp_path / "nowhere"))):
        load_melodies(MusicDataConfig(path=str(tmp_path / "nowhere")))


def test_cli_train_on_only_bad_files_is_one_error_line(tmp_path, capsys):
    from artforge.cli.main import main

    folder = tmp_path / "broken"
    make_bad_files(folder)
    rc = main(["train", "music", str(folder), "--run", str(tmp_path / "r"), "--steps", "1"])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc != 0
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert "Traceback" not in err and str(folder.resolve()) in lines[0]
    assert not (tmp_path / "r").exists(), "a run that never started must not leave a run folder"


def test_tempo_zero_is_a_bad_file_not_a_crash(tmp_path):
    write_midi(good_tune(1), tmp_path / "good.mid")
    (tmp_path / "zero_tempo.mid").write_bytes(two_notes((0, mido.MetaMessage("set_tempo", tempo=0))))
    report = read_midi_folder(tmp_path, MusicDataConfig(path=str(tmp_path)))
    assert [f["path"] for f in report.files] == ["good.mid"]
    assert [b.path for b in report.bad] == ["zero_tempo.mid"] and "tempo" in report.bad[0].reason


def test_the_advised_check_command_understands_midi(tmp_path, capsys):
    from artforge.cli.main import main

    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "drums.mid").write_bytes(BAD["drums.mid"][0]())
    (folder / "type2.mid").write_bytes(BAD["type2.mid"][0]())
    with pytest.raises(DataError) as err:
        load_melodies(MusicDataConfig(path=str(folder)))
    advised = re.search(r"`artforge ([^`]+)`", str(err.value))
    if advised:                       # the command it names must tell the user why each file was skipped
        main(advised.group(1).split() + ["--quiet"])
        out = capsys.readouterr()
        text = out.out + out.err
    else:                             # or the message itself does
        text = str(err.value)
    assert "not an image" not in text and "drums" in text and "type-2" in text
