"""`artforge stylize`: end to end on tiny images, its recipe and replay, and one-line errors with nothing written."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from artforge.provenance import read_recipe

TINY = ["--size", "40", "--iterations", "3"]


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def files(tmp_path, art):
    art(1, size=50).save(tmp_path / "photo.jpg", quality=95)
    art(2, size=64).save(tmp_path / "style1.png")
    art(3, size=72).save(tmp_path / "style2.png")
    return tmp_path


def test_stylize_writes_a_png_with_its_recipe_and_replays_it(cli, files, capsys):
    out = files / "out" / "painted.png"
    code = cli("stylize", files / "photo.jpg", files / "style1.png", files / "style2.png", "--method", "optimize",
               "--style-weights", "0.7,0.3", "--content-weight", 2, "--style-weight", 50, "--tv-weight", 1,
               "--style-scale", 0.8, "--preserve-color", "luminance", "--seed", 3, "--out", out, "--json", *TINY)
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["image"] == str(out) and printed["size"] == [40, 40]
    assert Image.open(out).size == (40, 40)
    recipe = read_recipe(out)
    assert recipe["pipeline"] == "stylize.optimize"
    p = recipe["params"]
    assert (p["style_weights"], p["content_weight"], p["style_weight"], p["tv_weight"], p["style_scale"],
            p["preserve_color"], p["seed"], p["size"], p["iterations"]) == ("0.7,0.3", 2.0, 50.0, 1.0, 0.8,
                                                                            "luminance", 3, 40, 3)
    assert [q["role"] for q in recipe["parents"]] == ["content", "style", "style"]
    assert [f.name for f in out.parent.iterdir()] == ["painted.png"]           # no temporary files left
    assert cli("replay", out, "--out", files / "again.png", "--json") == 0
    assert json.loads(capsys.readouterr().out)["identical"] is True


def test_help_lists_the_declared_parameters(cli, capsys):
    with pytest.raises(SystemExit):
        cli("stylize", "--help")
    text = capsys.readouterr().out
    for flag in ("--style-weights", "--content-weight", "--style-weight", "--tv-weight", "--style-scale",
                 "--preserve-color", "--size", "--iterations", "--seed", "--method", "--max-pixels", "--quiet"):
        assert flag in text


@pytest.mark.parametrize("case", ["unreadable", "huge", "small_style", "not_png", "weights", "missing"])
def test_bad_input_is_one_line_and_writes_nothing(cli, files, capsys, case):
    (files / "junk.jpg").write_bytes(b"\xff\xd8 this is not really a jpeg")
    Image.new("RGB", (40, 300), "blue").save(files / "thin.png")
    out = files / "o" / "out.png"
    args = {"unreadable": [files / "junk.jpg", files / "style1.png"],
            "huge": [files / "photo.jpg", files / "style1.png", "--max-pixels", 1000],
            "small_style": [files / "photo.jpg", files / "thin.png"],
            "not_png": [files / "photo.jpg", files / "style1.png"],
            "weights": [files / "photo.jpg", files / "style1.png", "--style-weights", "1,2"],
            "missing": [files / "nope.png", files / "style1.png"]}[case]
    target = files / "out.jpg" if case == "not_png" else out
    assert cli("stylize", *args, "--out", target, *TINY) == 2
    err = capsys.readouterr().err.strip()
    expected = {"unreadable": "content image", "huge": "over pixel limit", "small_style": "at least 64 px",
                "not_png": "give a .png file name", "weights": "2 weight(s) for 1 style image",
                "missing": "content image not found"}[case]
    assert err.startswith("error: ") and expected in err and "\n" not in err and "Traceback" not in err
    assert not target.exists() and not (files / "o").exists()
