"""What a new user meets on the command line (issue 26): defaults, names, help texts and what gets printed."""

from __future__ import annotations

import json

import pytest
import torch

from artforge.cli.main import build_parser
from artforge.pipelines.replay import replay_device
from artforge.provenance import read_recipe


def test_seed_ranges_print_as_integers(cli, capsys):
    with pytest.raises(SystemExit):
        cli("generate", "--help")
    text = " ".join(capsys.readouterr().out.split())        # argparse wraps the help text
    assert "seed of the first image; image i uses seed+i [0..2147483647] (default: 0)" in text
    assert "shrink latents toward the mean: <1 safer, >1 wilder [0..2] (default: 1.0)" in text


def test_recipe_json_prints_one_line(cli, tmp_path, capsys):
    assert cli("generate", "starter", "-n", 1, "--out", tmp_path, "--quiet") == 0
    capsys.readouterr()
    assert cli("recipe", tmp_path / "seed0.png", "--json") == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and json.loads(out) == read_recipe(tmp_path / "seed0.png")


def test_interpolate_refuses_a_single_seed(cli, tmp_path, capsys):
    assert cli("interpolate", "starter", "--seeds", "5", "--out", tmp_path / "a.gif") == 2
    assert capsys.readouterr().err == ("error: seeds: give two or more seeds to morph between, e.g. 5,6 (one seed is "
                                       "a still picture: artforge generate MODEL -n 1 --seed 5)\n")
    assert not (tmp_path / "a.gif").exists()


def test_music_breed_writes_children_png(cli, midi_dir, tmp_path):
    assert cli("music", "breed", "starter:melody-2bar", midi_dir / "tune01.mid", midi_dir / "tune02.mid",
               "--children", 2, "--out", tmp_path, "--no-wav", "--quiet") == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["child-000.mid", "child-001.mid", "children.png"]


def test_quiet_still_prints_the_result(cli, tmp_path, capsys):
    assert cli("generate", "starter", "-n", 1, "--seed", 4, "--out", tmp_path, "--quiet") == 0
    assert capsys.readouterr().out == f"wrote 1 image and a grid to {tmp_path}/ (grid: {tmp_path}/grid-seed4-n1.png)\n"


def test_music_interpolate_counts_frames_like_the_images(cli, midi_dir, tmp_path, capsys):
    assert cli("music", "interpolate", "starter:melody-2bar", midi_dir / "tune01.mid", midi_dir / "tune02.mid",
               "--frames", 3, "--out", tmp_path, "--no-wav", "--json") == 0
    written = json.loads(capsys.readouterr().out)
    assert [p.rsplit("/", 1)[1] for p in written["midi"]] == ["morph-000.mid", "morph-001.mid", "morph-002.mid",
                                                              "morph.mid"]
    assert read_recipe(tmp_path / "morph.mid")["params"]["steps"] == 3      # recipes keep the parameter's name


def test_music_interpolate_steps_still_works_with_a_warning(cli, midi_dir, tmp_path, capsys):
    assert cli("music", "interpolate", "starter:melody-2bar", midi_dir / "tune01.mid", midi_dir / "tune02.mid",
               "--steps", 3, "--out", tmp_path, "--no-wav", "--quiet") == 0
    assert capsys.readouterr().err == "warning: --steps is deprecated here; use --frames\n"
    assert read_recipe(tmp_path / "morph.mid")["params"]["steps"] == 3


def test_progress_bars_stay_out_of_a_log(cli, tmp_path, art, capsys):
    """stderr is not a terminal here (as in a log file or a CI job): no bar, so no carriage returns."""
    art(1, size=50).save(tmp_path / "photo.png")
    art(2, size=64).save(tmp_path / "style.png")
    assert cli("stylize", tmp_path / "photo.png", tmp_path / "style.png", "--method", "optimize", "--size", 40,
               "--iterations", 3, "--out", tmp_path / "o.png") == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("argv", [["generate", "starter", "--out", "o"], ["interpolate", "starter", "--out", "o.gif"],
                                  ["music", "sample", "starter:melody-2bar", "--out", "o"],
                                  ["stylize", "a.png", "b.png", "--out", "o.png"], ["replay", "a.png", "--out", "b.png"]])
def test_every_creating_verb_defaults_to_the_auto_device(argv):
    assert build_parser().parse_args(argv).device == "auto"


def test_recipes_record_the_device(cli, tmp_path):
    assert cli("generate", "starter", "-n", 1, "--out", tmp_path, "--device", "cpu", "--quiet") == 0
    assert read_recipe(tmp_path / "seed0.png")["device"] == "cpu"


@pytest.mark.parametrize("recorded", [{"device": "cpu"}, {}, {"device": "tpu"}])
def test_auto_replays_a_cpu_or_older_recipe_on_the_cpu(recorded):
    assert replay_device(recorded, "auto") == torch.device("cpu")


def test_auto_replays_a_gpu_recipe_on_the_gpu_when_there_is_one():
    want = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    assert replay_device({"device": "cuda"}, "auto") == want


# --out takes a folder or a file on every verb; the result line says what was written.
def test_generate_out_file_with_one_image(cli, tmp_path, capsys):
    assert cli("generate", "starter", "-n", 1, "--seed", 2, "--out", tmp_path / "pic.png", "--quiet") == 0
    assert capsys.readouterr().out == f"wrote {tmp_path / 'pic.png'}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["pic.png"]
    assert read_recipe(tmp_path / "pic.png")["params"]["image_seed"] == 2


def test_generate_out_file_with_several_images_is_their_grid(cli, tmp_path):
    assert cli("generate", "starter", "-n", 2, "--out", tmp_path / "pic.png", "--quiet") == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pic-seed0.png", "pic-seed1.png", "pic.png"]
    assert read_recipe(tmp_path / "pic.png")["output"] == "grid"


def test_interpolate_out_folder(cli, tmp_path, capsys):
    assert cli("interpolate", "starter", "--seeds", "1,2", "--frames", 2, "--out", tmp_path, "--quiet") == 0
    assert capsys.readouterr().out == f"wrote 2 frames to {tmp_path / 'interpolate-1-2.gif'}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["interpolate-1-2.gif"]


def test_stylize_out_folder(cli, tmp_path, art):
    art(1, size=50).save(tmp_path / "photo.png")
    art(2, size=64).save(tmp_path / "style.png")
    (tmp_path / "out").mkdir()
    assert cli("stylize", tmp_path / "photo.png", tmp_path / "style.png", "--method", "optimize", "--size", 40,
               "--iterations", 3, "--out", tmp_path / "out", "--quiet") == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["photo-stylized.png"]


def test_music_out_file(cli, tmp_path):
    assert cli("music", "sample", "starter:melody-2bar", "-n", 1, "--out", tmp_path / "tune.mid", "--no-wav",
               "--quiet") == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tune.mid", "tune.png"]


def test_replay_out_folder_and_never_over_its_source(cli, tmp_path, capsys):
    assert cli("generate", "starter", "-n", 1, "--out", tmp_path / "a", "--quiet") == 0
    (tmp_path / "b").mkdir()
    capsys.readouterr()
    assert cli("replay", tmp_path / "a" / "seed0.png", "--out", tmp_path / "b", "--json") == 0
    assert json.loads(capsys.readouterr().out) == {"out": str(tmp_path / "b" / "seed0.png"), "identical": True}
    assert cli("replay", tmp_path / "a" / "seed0.png", "--out", tmp_path / "a") == 2
    assert capsys.readouterr().err == (f"error: {tmp_path / 'a' / 'seed0.png'} is the file being replayed; give "
                                       "another file name or a folder (replay never writes over its source)\n")


def test_building_the_parser_and_its_help_imports_no_torch(subprocess_env):
    import subprocess
    import sys

    code = ("import sys; from artforge.cli.main import build_parser; p = build_parser(); p.format_help(); "
            "print(sorted(m for m in ('torch', 'numpy', 'PIL') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env)
    assert (proc.returncode, proc.stdout) == (0, "[]\n"), proc.stderr


def test_the_verb_list_says_what_each_verb_says_of_itself():
    from artforge.cli.main import VERBS, common_parser, verb_parsers

    for verb, (module, line) in VERBS.items():
        sub = __import__("argparse").ArgumentParser(prog="artforge").add_subparsers()
        __import__(f"artforge.cli.{module}", fromlist=["register"]).register(sub, [common_parser()])
        helps = {a.dest: a.help for a in sub._choices_actions}
        assert helps[verb] == line, verb
        assert verb in verb_parsers(module, [common_parser()])


def test_train_help_names_every_family(capsys):
    from artforge.cli.main import main
    from artforge.training.tasks import families

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for name in families():
        assert f"artforge train {name} " in out, name
