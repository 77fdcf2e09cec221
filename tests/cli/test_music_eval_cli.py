"""`artforge eval` of a music model on data it never saw: every tune scored, the split chosen with --split,
copies checked against the model's own training windows, and the report saying which it did."""

from __future__ import annotations

import json

import pytest

from artforge.data.midi import read_midi
from artforge.data.music import is_validation, windows


@pytest.fixture(scope="module")
def tiny_music_run(tmp_path_factory, midi_dir):
    from artforge.cli.main import main
    from melodies import MUSIC_TINY

    run = tmp_path_factory.mktemp("music-eval") / "run"
    assert main([str(a) for a in ("train", "music", midi_dir, "--run", run, "--bars", 2, "--steps", 4, "--quiet",
                                  *MUSIC_TINY)]) == 0
    return run


@pytest.fixture(scope="module")
def new_tunes(tmp_path_factory):
    """Ten tunes the tiny run never saw (other seeds than midi_dir's)."""
    from artforge.io.midi import write_midi
    from melodies import random_walk_melody

    folder = tmp_path_factory.mktemp("new-tunes")
    for i in range(10):
        write_midi([random_walk_melody(100 + i)], folder / f"new{i:02d}.mid", tempo_bpm=100)
    return folder


def distinct_windows(folder, held_out_only: bool = False) -> int:
    """Distinct 2-bar windows of a folder's tunes, counted here from the files themselves."""
    seen = set()
    for p in sorted(folder.glob("*.mid")):
        for i, ev in enumerate(read_midi(p)):
            if held_out_only and not is_validation(f"{p.name}#{i}", 20.0):
                continue
            seen.update(w.tobytes() for w in windows(ev, 2))
    return len(seen)


def eval_json(cli, capsys, *argv) -> dict:
    assert cli("eval", *argv, "--n", 10, "--json") == 0
    return json.loads(capsys.readouterr().out)


def test_data_the_model_never_saw_is_scored_whole(cli, capsys, tiny_music_run, new_tunes, tmp_path):
    f = eval_json(cli, capsys, tiny_music_run, "--data", new_tunes, "--out", tmp_path)
    assert f["split"] == "all-unseen"
    assert f["melodies_scored"] == f["melodies_available"] == distinct_windows(new_tunes) == 50


def test_split_held_out_scores_only_the_name_hash_hold_out(cli, capsys, tiny_music_run, new_tunes, tmp_path):
    f = eval_json(cli, capsys, tiny_music_run, "--data", new_tunes, "--split", "held-out", "--out", tmp_path)
    assert f["split"] == "held-out" and f["held_out_melodies"] == distinct_windows(new_tunes, held_out_only=True)


def test_the_training_folder_given_again_is_recognised_by_its_manifest(cli, capsys, tiny_music_run, midi_dir,
                                                                       tmp_path):
    f = eval_json(cli, capsys, tiny_music_run, "--data", midi_dir, "--out", tmp_path)
    assert f["split"] == "held-out" and f["held_out_melodies"] == distinct_windows(midi_dir, held_out_only=True)


def test_copies_are_checked_against_the_models_training_windows(cli, capsys, tiny_music_run, new_tunes, tmp_path):
    f = eval_json(cli, capsys, tiny_music_run, "--data", new_tunes, "--out", tmp_path)
    manifest = json.loads((tiny_music_run / "manifest.json").read_text())
    assert f["train_windows"] == manifest["counts"]["train_windows"]


def test_report_says_every_tune_of_unseen_data_was_scored(cli, capsys, tiny_music_run, midi_dir, new_tunes,
                                                          tmp_path):
    eval_json(cli, capsys, tiny_music_run, "--data", new_tunes, "--out", tmp_path)
    report = (tmp_path / "report.md").read_text().splitlines()
    assert report[2].endswith(f"data: {new_tunes}, not the model's training data ({midi_dir}), so every tune of "
                              "it is scored (--split all; --split held-out scores only its name-hash hold-out). "
                              f"Samples are checked against the model's training windows ({midi_dir}).")
    assert "| melodies scored (2 bars, every tune of data the model was not trained on) | 50 |" in report
