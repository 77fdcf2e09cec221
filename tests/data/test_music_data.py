"""Melody folders as training data: windows, the split by tune, the manifest, batching with transposition,
and a light look at a built-in corpus."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from artforge.data import corpus as corpus_mod
from artforge.data.melody import FIRST_PITCH_TOKEN, N_CLASSES, NO_EVENT, NOTE_OFF, Note, notes_to_events, pitch_token
from artforge.data.music import MelodyDataset, MusicDataConfig, is_validation, load_melodies, windows
from artforge.errors import DataError
from artforge.io.midi import write_midi

BAR = 16


def quarters(pitches, start: int = 0) -> list[Note]:
    return [Note(int(p), start + 4 * i, start + 4 * i + 4) for i, p in enumerate(pitches)]


# -- windows -------------------------------------------------------------------------------------------

def test_windows_start_on_bar_lines_hop_apart_and_have_the_exact_length():
    ev = notes_to_events(quarters(range(50, 74)))                 # 6 bars of quarter notes, all distinct
    assert len(ev) == 96
    for bars, hop, starts in [(2, 1, [0, 16, 32, 48, 64]), (2, 2, [0, 32, 64]), (16, 1, [])]:
        ws = windows(ev, bars, hop)
        assert [w.tolist() for w in ws] == [ev[s:s + bars * BAR].tolist() for s in starts]
        assert all(w.shape == (bars * BAR,) and w.dtype == np.int64 for w in ws)
    # a part that ends mid-bar: the partial bar starts no window
    longer = np.concatenate([ev, notes_to_events([Note(80, 0, 2), Note(81, 2, 4)], 10)])
    assert len(windows(longer, 2, 1)) == 5
    long16 = notes_to_events(quarters(list(range(40, 72)) * 2))   # 16 bars exactly
    assert [w.tolist() for w in windows(long16, 16)] == [long16.tolist()]


def test_windows_do_not_change_the_melody():
    ev = notes_to_events(quarters(range(50, 74)))
    before = ev.copy()
    for w in windows(ev, 2):
        w[:] = 0
    assert np.array_equal(ev, before)


def test_note_held_across_a_window_start_is_struck_again():
    # bar 1 ends with a note from step 12 to 20, crossing the bar line at 16
    notes = quarters([60, 62, 64]) + [Note(65, 12, 20), Note(67, 20, 24), Note(69, 24, 28), Note(71, 28, 32),
                                      Note(72, 32, 36), Note(74, 36, 40), Note(76, 40, 44), Note(77, 44, 48)]
    ev = notes_to_events(notes)
    assert ev[16] == NO_EVENT
    ws = windows(ev, 2, 1)
    assert len(ws) == 2
    assert ws[0].tolist() == ev[:32].tolist()
    assert ws[1][0] == pitch_token(65) and ws[1][1:].tolist() == ev[17:48].tolist()


def test_silence_across_a_window_start_stays_silent():
    notes = quarters([60, 62, 64]) + [Note(65, 12, 14)] + quarters([67, 69, 71, 72, 74, 76, 77], start=20)
    ev = notes_to_events(notes)                                    # rest from 14 to 20
    ws = windows(ev, 2, 1)
    assert ws[1][0] == NO_EVENT and ws[1].tolist() == ev[16:48].tolist()


def one_window(rest_start: int, rest_len: int) -> np.ndarray:
    """Two bars: four 8th notes, a rest of rest_len steps from rest_start, then a note to the end."""
    notes = [Note(60 + i, 2 * i, 2 * i + 2) for i in range(rest_start // 2)]
    notes.append(Note(72, rest_start + rest_len, 32))
    return notes_to_events(notes, 32)


def test_rest_longer_than_a_bar_is_rejected():
    ok, too_long = one_window(8, 16), one_window(8, 17)
    assert (ok == NOTE_OFF).sum() == 1 and len(windows(ok, 2)) == 1
    assert len(windows(too_long, 2)) == 0
    # leading silence counts as a rest too
    lead_ok = notes_to_events([Note(60 + i, 16 + 2 * i, 18 + 2 * i) for i in range(8)], 32)
    lead_long = notes_to_events([Note(60 + i, 17 + 2 * i, 19 + 2 * i) for i in range(7)], 32)
    assert len(windows(lead_ok, 2)) == 1 and len(windows(lead_long, 2)) == 0


def test_too_few_notes_is_rejected():
    four = notes_to_events([Note(60 + i, 8 * i, 8 * i + 8) for i in range(4)])       # 2 onsets a bar
    three = notes_to_events([Note(60, 0, 8), Note(62, 8, 16), Note(64, 16, 32)])
    assert [w.tolist() for w in windows(four, 2)] == [four.tolist()]
    assert windows(three, 2) == []
    sixteen_bars_sparse = notes_to_events([Note(60 + i % 12, 16 * i, 16 * i + 16) for i in range(16)])
    assert windows(sixteen_bars_sparse, 16) == []                 # 1 onset a bar is too few
    assert windows(np.zeros(64, dtype=np.int64), 2) == []


# -- the split ------------------------------------------------------------------------------------------

# Pinned: changing the hash would move tunes between train and validation in every existing run.
PINNED_VAL_AT_50 = [0, 4, 5, 7, 8, 10, 11, 12, 13, 14, 15, 17, 18, 19, 20, 22, 23, 24, 25, 28, 29, 32, 35, 36, 39]
PINNED_VAL_AT_5 = [8, 11, 32]       # the first 8 bytes of SHA-256 of the name, big-endian, mod 10000 < 500


def test_is_validation_is_deterministic_and_pinned():
    names = [f"tune{i:02d}.mid#0" for i in range(40)]
    assert [i for i, n in enumerate(names) if is_validation(n, 50)] == PINNED_VAL_AT_50
    assert [i for i, n in enumerate(names) if is_validation(n, 5)] == PINNED_VAL_AT_5
    assert is_validation("tune08.mid#0", 5) is True and is_validation("tune08.mid#1", 5) is False


@pytest.mark.parametrize("val_percent", [0, 5, 50])
def test_is_validation_holds_out_about_val_percent(val_percent):
    names = [f"folder/{i}.mid#{i % 3}" for i in range(20_000)]
    frac = np.mean([is_validation(n, val_percent) for n in names])
    assert abs(frac - val_percent / 100) < 0.01


def test_is_validation_at_a_higher_percent_keeps_the_lower_percents_tunes():
    names = [f"t{i}.mid#0" for i in range(2000)]
    assert all(is_validation(n, 10) for n in names if is_validation(n, 5))


# -- a folder of generated tunes --------------------------------------------------------------------------

def random_walk(seed: int) -> np.ndarray:
    """4 to 8 bars of a random-walk melody with a few short rests; each seed has its own pitch range."""
    rng = np.random.default_rng(seed)
    bars = int(rng.integers(4, 9))
    low = 30 + 2 * (seed % 30)
    pitch, t, notes = low + 5, 0, []
    while t < bars * BAR:
        d = min(int(rng.choice([2, 4, 4, 4, 8])), bars * BAR - t)
        if rng.random() < 0.1 and t + d < bars * BAR:             # a short rest, never at the end
            t += 2
            continue
        notes.append(Note(pitch, t, t + d))
        pitch = int(np.clip(pitch + rng.integers(-2, 3), low, low + 10))
        t += d
    return notes_to_events(notes, bars * BAR)


def write_folder(folder: Path, seeds) -> dict[str, np.ndarray]:
    """Files f000.mid ... (one melody each); returns tune name -> the events written."""
    folder.mkdir(parents=True, exist_ok=True)
    tunes = {}
    for s in seeds:
        ev = random_walk(s)
        write_midi(ev, folder / f"f{s:03d}.mid")
        tunes[f"f{s:03d}.mid#0"] = ev
    return tunes


@pytest.fixture(scope="module")
def tunes30(tmp_path_factory) -> tuple[Path, dict[str, np.ndarray]]:
    folder = tmp_path_factory.mktemp("tunes") / "thirty"
    return folder, write_folder(folder, range(30))


def trace(ws: torch.Tensor, tunes: dict[str, np.ndarray], bars: int = 2) -> set[str]:
    """The tunes the windows were cut from (every window must come from exactly one)."""
    origin: dict[bytes, set[str]] = {}
    for name, ev in tunes.items():
        for w in windows(ev, bars):
            origin.setdefault(w.tobytes(), set()).add(name)
    found = set()
    for w in ws.numpy():
        names = origin.get(w.tobytes())
        assert names is not None and len(names) == 1, "a window that no single tune plays"
        found |= names
    return found


def cfg_for(folder: Path, **kw) -> MusicDataConfig:
    return MusicDataConfig(path=str(folder), bars=2, hop_bars=1, val_percent=20, **kw)


def test_split_is_by_tune(tunes30):
    folder, tunes = tunes30
    split = load_melodies(cfg_for(folder))
    train, val = split.train.windows, split.val
    assert train.dtype == val.dtype == torch.int64 and train.shape[1] == val.shape[1] == 32
    train_tunes, val_tunes = trace(train, tunes), trace(val, tunes)
    assert train_tunes and val_tunes and not train_tunes & val_tunes
    assert val_tunes == {n for n in tunes if is_validation(n, 20)}
    assert train_tunes == {n for n in tunes if not is_validation(n, 20)}
    # every window the rules allow is there, once
    expected_train = {w.tobytes() for n in train_tunes for w in windows(tunes[n], 2)}
    assert len(train) == len(expected_train) == len({w.tobytes() for w in train.numpy()})
    assert len(val) == sum(len(windows(tunes[n], 2)) for n in val_tunes)


def test_adding_tunes_moves_no_tune_between_train_and_validation(tunes30, tmp_path):
    folder, tunes = tunes30
    bigger = tmp_path / "forty"
    shutil.copytree(folder, bigger)
    more = write_folder(bigger, range(30, 40))
    split = load_melodies(cfg_for(bigger))
    all_tunes = tunes | more
    val_tunes = trace(split.val, all_tunes)
    assert val_tunes & set(tunes) == trace(load_melodies(cfg_for(folder)).val, tunes)
    assert trace(split.train.windows, all_tunes).isdisjoint(val_tunes)


def test_manifest_records_the_files_and_its_hash_follows_their_bytes(tunes30, tmp_path):
    folder, tunes = tunes30
    a = load_melodies(cfg_for(folder)).train
    m = a.manifest
    assert m["kind"] == "midi" and m["root"] == str(folder.resolve())
    assert m["counts"] == {"files": 30, "skipped": 0, "parts": 30, "train_windows": len(a),
                           "val_windows": m["counts"]["val_windows"]}
    assert [f["path"] for f in m["files"]] == sorted(p.name for p in folder.iterdir())
    for f in m["files"]:
        data = (folder / f["path"]).read_bytes()
        assert f["sha256"] == hashlib.sha256(data).hexdigest() and f["bytes"] == len(data)
    # same files -> same hash, wherever the folder lies
    assert load_melodies(cfg_for(folder)).train.manifest_sha256 == a.manifest_sha256
    moved = tmp_path / "elsewhere"
    shutil.copytree(folder, moved)
    assert load_melodies(cfg_for(moved)).train.manifest_sha256 == a.manifest_sha256
    # other windowing -> another hash
    hop2 = MusicDataConfig(path=str(moved), bars=2, hop_bars=2, val_percent=20)
    assert load_melodies(hop2).train.manifest_sha256 != a.manifest_sha256
    # one file's bytes changed -> another hash
    ev = tunes["f007.mid#0"].copy()
    ev[ev >= FIRST_PITCH_TOKEN] += 1
    write_midi(ev, moved / "f007.mid")
    changed = load_melodies(cfg_for(moved)).train
    assert changed.manifest_sha256 != a.manifest_sha256
    assert len(a.manifest_sha256) == 64


def test_folder_with_no_usable_window_is_a_data_error(tmp_path):
    folder = tmp_path / "sparse"
    folder.mkdir()
    write_midi(notes_to_events([Note(60, 0, 16), Note(62, 16, 32), Note(64, 32, 48)]), folder / "slow.mid")
    with pytest.raises(DataError, match="no usable 2-bar melodies") as err:
        load_melodies(MusicDataConfig(path=str(folder)))
    assert str(folder.resolve()) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("field, value", [("bars", 4), ("hop_bars", 3), ("transpose", 13), ("val_percent", 100)])
def test_bad_settings_are_data_errors_naming_the_key(tunes30, field, value):
    folder, _ = tunes30
    cfg = cfg_for(folder)
    setattr(cfg, field, value)
    with pytest.raises(DataError, match=f"data.{field}"):
        load_melodies(cfg)


# -- batching ---------------------------------------------------------------------------------------------

def dataset(ws: np.ndarray, transpose_max: int) -> MelodyDataset:
    return MelodyDataset(torch.from_numpy(ws), transpose_max, {"files": [], "preprocessing": {}})


@pytest.fixture(scope="module")
def some_windows() -> np.ndarray:
    out = []
    for s in range(40):
        out += windows(random_walk(s), 2)
    edge = notes_to_events([Note(21, 0, 8), Note(108, 8, 16), Note(21, 16, 24), Note(108, 24, 32)], 32)
    top = notes_to_events(quarters([100, 104, 106, 108, 107, 105, 103, 101]), 32)
    return np.stack(out[:60] + [edge, top])


def test_batch_is_reproducible_with_the_same_generator_seed(some_windows):
    ds = dataset(some_windows, 5)
    idx = list(range(len(ds)))
    a = ds.batch(idx, torch.Generator().manual_seed(3))
    b = ds.batch(idx, torch.Generator().manual_seed(3))
    c = ds.batch(idx, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(ds.windows, torch.from_numpy(some_windows)), "batching must not change the stored windows"


def test_batch_transposes_whole_windows_within_range(some_windows):
    t = 5
    ds = dataset(some_windows, t)
    g = torch.Generator().manual_seed(0)
    seen = set()
    for _ in range(10):
        idx = torch.randint(0, len(ds), (32,), generator=g)
        x = ds.batch(idx, g)
        assert x.shape == (32, 32) and x.dtype == torch.int64
        assert int(x.min()) >= 0 and int(x.max()) < N_CLASSES
        for row, i in zip(x, idx.tolist()):
            orig = torch.from_numpy(some_windows[i])
            notes = orig >= FIRST_PITCH_TOKEN
            assert torch.equal(row[~notes], orig[~notes]), "holds and rests never change"
            shift = (row[notes] - orig[notes]).unique()
            assert len(shift) == 1 and -t <= int(shift) <= t
            seen.add(int(shift))
    assert seen == set(range(-t, t + 1))
    # the window spanning the whole piano range can never move; the high one only downwards
    edge, top = len(ds) - 2, len(ds) - 1
    for _ in range(20):
        x = ds.batch([edge, top], g)
        assert torch.equal(x[0], ds.windows[edge])
        assert int(x[1].max()) <= pitch_token(108)


def test_batch_without_transposition_returns_the_windows(some_windows):
    ds = dataset(some_windows, 0)
    idx = [5, 0, 5, len(ds) - 1]
    assert torch.equal(ds.batch(idx, torch.Generator().manual_seed(0)), ds.windows[idx])


# -- a built-in corpus (music21's Bach chorales, two files) ---------------------------------------------

def test_builtin_chorales_are_read_once_then_cached(tmp_path, monkeypatch):
    pytest.importorskip("music21")
    cfg = MusicDataConfig(path="builtin:chorales", max_files=2, cache_dir=str(tmp_path), val_percent=0)
    split = load_melodies(cfg)
    names = [n for n, _ in split.report.tunes]
    assert len(split.report.files) == 2 and len(names) >= 2 and all(n.startswith("bach/bwv") for n in names)
    assert len(split.train) > 0 and split.train.windows.shape[1] == 32
    assert list((tmp_path / "music").glob("chorales-*-first2.safetensors"))

    def no_parsing(*a, **k):
        raise AssertionError("the cached corpus must not be parsed again")

    monkeypatch.setattr(corpus_mod, "ProcessPoolExecutor", no_parsing)
    monkeypatch.setattr(corpus_mod, "_parse_file", no_parsing)
    again = load_melodies(cfg)
    assert [n for n, _ in again.report.tunes] == names
    assert torch.equal(again.train.windows, split.train.windows)
    assert again.train.manifest_sha256 == split.train.manifest_sha256
