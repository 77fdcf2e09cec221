"""`artforge data check DIR`, driven through the verb's own register() and run_check()."""

from __future__ import annotations

import argparse
import json

import pytest
from PIL import Image

from artforge.cli import data as data_cli
from artforge.errors import DataError


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", action="store_true")
    common.add_argument("--debug", action="store_true")
    p = argparse.ArgumentParser(prog="artforge")
    data_cli.register(p.add_subparsers(dest="verb", required=True), [common])
    return p


def run(*argv: str) -> int:
    args = parser().parse_args(["data", "check", *map(str, argv)])
    return args.func(args)


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "art"
    d.mkdir()
    for i, colour in enumerate(["red", "green", "blue"]):
        Image.new("RGB", (30, 20), colour).save(d / f"{i}.png")
    (d / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    (d / "dataset.toml").write_text('licence = "CC-BY-4.0"\n')
    return d


def test_summary(folder, capsys):
    assert run(folder, "--quiet") == 0
    out = capsys.readouterr().out
    assert "3 usable image(s), 1 skipped" in out and "broken.jpg" in out and "CC-BY-4.0" in out


def test_json_is_one_object(folder, capsys):
    assert run(folder, "--json", "--resolution", "32", "--crop", "pad", "--max-pixels", "1000") == 0
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == 1
    report = json.loads(out)
    assert report["counts"] == {"files": 4, "ok": 3, "bad": 1, "duplicates": 0}
    assert report["bad"][0]["path"] == "broken.jpg"


def test_pixel_limit_flag(folder, capsys):
    with pytest.raises(DataError, match="over pixel limit"):
        run(folder, "--json", "--max-pixels", "100")
    assert json.loads(capsys.readouterr().out)["counts"]["ok"] == 0  # the listing still comes first


def test_builtin(capsys):  # the session fixture points ARTFORGE_CACHE_DIR at a temporary folder
    assert run("builtin", "--json", "--quiet") == 0
    assert json.loads(capsys.readouterr().out)["counts"]["ok"] == 400


@pytest.mark.parametrize("argv, words", [
    (["{tmp}/missing"], "data folder not found"),
    (["{tmp}/empty"], "empty"),
    (["{tmp}/bad"], "no usable images"),
    (["{tmp}/bad", "--resolution", "100"], "power of two"),
    (["{tmp}/bad", "--background", "blue"], "#ffffff"),
])
def test_errors_are_one_line(tmp_path, argv, words):
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.png").write_text("text")
    with pytest.raises(DataError) as e:
        run(*[a.format(tmp=tmp_path) for a in argv])
    assert words in str(e.value) and "\n" not in str(e.value)


def test_bad_crop_is_an_argparse_error(folder, capsys):
    with pytest.raises(SystemExit):
        run(folder, "--crop", "stretch")
    assert "invalid choice" in capsys.readouterr().err
