"""Every CLI verb runs once, with --help, and the documented spellings work."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

VERBS = ["demo", "data", "train", "eval", "generate", "interpolate", "music", "stylize", "studio", "recipe", "replay"]


def test_the_list_holds_every_verb_the_cli_has():
    from artforge.cli.main import VERBS as CLI_VERBS

    assert sorted(VERBS) == sorted(CLI_VERBS)


@pytest.mark.parametrize("verb", VERBS)
def test_help(cli, verb, capsys):
    with pytest.raises(SystemExit) as e:
        cli(verb, "--help")
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "--quiet" in out and "--debug" in out


def test_console_script_and_module_entry(subprocess_env):
    for cmd in (["artforge", "--version"], [sys.executable, "-m", "artforge", "--version"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=subprocess_env)
        assert proc.returncode == 0 and proc.stdout.startswith("artforge ")


def test_demo_end_to_end_small(cli, tmp_path, capsys):
    out = tmp_path / "demo"
    assert cli("demo", "--out", out, "--steps", 2, "--resolution", 32, "--eval-samples", 16, "--quiet") == 0
    printed = capsys.readouterr().out
    assert str(out / "grid.png") in printed and str(out / "loop.gif") in printed
    assert str(out / "run" / "eval" / "report.md") in printed and "KID_effnet" in printed
    assert (out / "run" / "eval" / "memorization.png").exists() and (out / "run" / "kid.png").exists()
    assert (out / "grid.png").exists() and (out / "loop.gif").exists() and (out / "run" / "loss.png").exists()
    # A second demo reuses the finished run instead of training again.
    assert cli("demo", "--out", out, "--steps", 2, "--resolution", 32, "--eval-samples", 16) == 0
    assert "reusing" in capsys.readouterr().err


def test_generate_starter_works_after_install(cli, tmp_path, capsys):
    assert cli("generate", "starter", "-n", 4, "--seed", 7, "--out", tmp_path, "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["images"]) == 4
    cfg = json.loads((__import__("artforge.models.pretrained", fromlist=["x"]).starter_dir() / "config.json")
                     .read_text())
    assert cfg["arch"] == "lite" and cfg["dataset"]["licence"].startswith("CC0")


def test_unknown_model_folder(cli, tmp_path, capsys):
    assert cli("generate", tmp_path / "nothing", "--out", tmp_path / "o") == 2
    assert "model folder not found" in capsys.readouterr().err


def test_interpolate_needs_gif_or_mp4(cli, tmp_path, capsys):
    assert cli("interpolate", "starter", "--seeds", "1,2", "--out", tmp_path / "x.avi") == 2
    assert ".gif or .mp4" in capsys.readouterr().err
