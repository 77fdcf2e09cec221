"""`artforge train music`, `artforge music sample|interpolate|breed`, recipe/replay and eval on MIDI."""

from __future__ import annotations

import json
import wave

import pytest


@pytest.fixture(scope="module")
def music_run(tmp_path_factory, midi_dir):
    from melodies import MUSIC_TINY
    from artforge.cli.main import main
    run_cli = lambda *argv: main([str(a) for a in argv])   # noqa: E731
    run = tmp_path_factory.mktemp("music-cli") / "run"
    assert run_cli("train", "music", midi_dir, "--run", run, "--bars", 2, "--steps", 10, "--quiet", *MUSIC_TINY) == 0
    return run


def test_sample_writes_midi_wav_and_piano_roll(cli, music_run, tmp_path, capsys):
    out = tmp_path / "s"
    assert cli("music", "sample", music_run, "-n", 3, "--temperature", 0.9, "--seed", 3, "--out", out, "--json") == 0
    written = json.loads(capsys.readouterr().out)
    assert [p.rsplit("/", 1)[1] for p in written["midi"]] == ["sample-003.mid", "sample-004.mid", "sample-005.mid"]
    with wave.open(written["wav"][0]) as w:
        assert w.getframerate() == 44100 and w.getnframes() > 44100 * 2     # 2 bars at 120 bpm = 4 s
    assert (out / "samples.png").stat().st_size > 1000
    assert cli("recipe", out / "sample-004.mid") == 0
    recipe = json.loads(capsys.readouterr().out)
    assert recipe["pipeline"] == "music.sample" and recipe["params"]["index"] == 1 and recipe["params"]["bpm"] == 120
    assert cli("replay", out / "sample-004.mid", "--out", tmp_path / "again.mid", "--json") == 0
    assert json.loads(capsys.readouterr().out)["identical"] is True


def test_interpolate_and_breed(cli, music_run, midi_dir, tmp_path, capsys):
    a, b = midi_dir / "tune01.mid", midi_dir / "tune02.mid"
    assert cli("music", "interpolate", music_run, a, b, "--steps", 4, "--out", tmp_path / "m", "--no-wav",
               "--json") == 0
    written = json.loads(capsys.readouterr().out)
    assert len(written["midi"]) == 5 and written["midi"][-1].endswith("morph.mid") and not written["wav"]
    assert cli("recipe", tmp_path / "m" / "morph.mid") == 0
    assert json.loads(capsys.readouterr().out)["output"] == "morph"
    assert cli("music", "breed", music_run, a, b, midi_dir / "tune03.mid", "--children", 2, "--mutation", 0.2,
               "--out", tmp_path / "k", "--no-wav", "--redact", "model.path") == 0
    capsys.readouterr()
    assert cli("recipe", tmp_path / "k" / "child-001.mid") == 0
    recipe = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in recipe["parents"]] == ["tune01.mid", "tune02.mid", "tune03.mid"]
    assert "path" not in recipe["model"] and recipe["redacted"] == ["model.path"]


def test_music_eval_reports_accuracy_and_copies(cli, music_run, capsys):
    assert cli("eval", music_run, "--n", 16, "--json") == 0
    figures = json.loads(capsys.readouterr().out)
    # the 15 held-out 2-bar windows of midi_dir (by name hash), 32 steps each: accuracies count tokens of 480
    assert figures["held_out_melodies"] == figures["melodies_scored"] == 15
    for key in ("acc_teacher_forced", "acc_sampled"):
        correct = figures[key] * 480
        assert correct == pytest.approx(round(correct), abs=1e-4) and figures[key] < 0.05, key  # 10 steps: chance
    # ten steps of training cannot reproduce 80% of a training window: no sample is a copy
    assert (figures["samples"], figures["copied"], figures["copied_fraction"]) == (16, 0, 0.0)
    report = (music_run / "eval" / "report.md").read_text()
    assert "teacher-forced" in report and (music_run / "eval" / "reconstructions.png").exists()


def test_music_bad_input_is_one_line(cli, music_run, tmp_path, capsys):
    junk = tmp_path / "junk.mid"
    junk.write_text("not midi")
    assert cli("music", "interpolate", music_run, junk, junk, "--out", tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "junk.mid: not a MIDI file" in err
    assert cli("music", "sample", "starter", "--out", tmp_path / "o") == 2
    assert "not a music model" in capsys.readouterr().err
    assert cli("music", "sample", music_run, "--attribute", "loudness=3", "--out", tmp_path / "o") == 2
    assert "attribute" in capsys.readouterr().err
    assert cli("train", "music", tmp_path / "missing", "--run", tmp_path / "r") == 2
    assert "not found" in capsys.readouterr().err


def test_shipped_melody_model(cli, midi_dir, tmp_path, capsys):
    """The 2-bar model that ships with artforge samples, replays and evaluates after a plain install."""
    from artforge.models.pretrained import music_starter_dir
    folder = music_starter_dir("starter:melody-2bar")
    assert sum(p.stat().st_size for p in folder.parent.rglob("*") if p.is_file()) <= 20 * 2**20
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["family"] == "music" and cfg["model"]["steps"] == 32
    assert cli("music", "sample", "starter:melody-2bar", "-n", 4, "--seed", 1, "--temperature", 0.5,
               "--attribute", "density=+1", "--out", tmp_path, "--no-wav", "--json") == 0
    written = json.loads(capsys.readouterr().out)
    assert cli("replay", written["midi"][2], "--out", tmp_path / "again.mid", "--json") == 0
    assert json.loads(capsys.readouterr().out)["identical"] is True
    assert cli("eval", "starter:melody-2bar", "--data", midi_dir, "--n", 16, "--out", tmp_path / "ev", "--json") == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["acc_teacher_forced"] > 0.5 and figures["samples"] == 16


def test_shipped_sixteen_bar_melody_model(cli, tmp_path, capsys):
    """The 16-bar model ships too: built on the 2-bar one, it samples, replays and evaluates."""
    from artforge.io.midi import write_midi
    from artforge.models.pretrained import music_starter_dir
    from melodies import random_walk_melody
    folder = music_starter_dir("starter:melody-16bar")
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["arch"] == "musicvae-segments" and cfg["model"]["steps"] == 256
    assert cli("music", "sample", "starter:melody-16bar", "-n", 2, "--seed", 4, "--temperature", 0.5,
               "--attribute", "pitch=-1", "--out", tmp_path, "--no-wav", "--json") == 0
    written = json.loads(capsys.readouterr().out)
    assert cli("replay", written["midi"][1], "--out", tmp_path / "again.mid", "--json") == 0
    assert json.loads(capsys.readouterr().out)["identical"] is True
    long = tmp_path / "long"
    long.mkdir()
    for i in range(40):                                 # by name hash, t8 and t32 are the held-out tunes
        write_midi([random_walk_melody(i, bars=17)], long / f"t{i}.mid")
    assert cli("eval", "starter:melody-16bar", "--data", long, "--n", 10, "--out", tmp_path / "ev", "--json") == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["bars"] == 16 and 0.5 < figures["acc_teacher_forced"] <= 1 and figures["samples"] == 10


def test_data_check_reads_a_midi_folder(cli, midi_dir, tmp_path, capsys):
    assert cli("data", "check", midi_dir, "--json", "--quiet") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "midi" and len(report["files"]) == 24 and report["parts"] == 24
    assert report["windows_2_bars"] > 24 * 3 and report["windows_16_bars"] == 0 and report["bad"] == []
    empty = tmp_path / "only-text"
    empty.mkdir()
    (empty / "a.mid").write_text("not midi")
    assert cli("data", "check", empty) == 2
    out = capsys.readouterr()
    assert "a.mid: not a MIDI file" in out.out and out.err.startswith("error: no usable MIDI files")
