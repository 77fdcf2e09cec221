"""`artforge stylize --vgg19 FILE`: the recipe names the user's VGG19 by hash, and replay needs that file."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from PIL import Image
from vgg_files import write_tiny_vgg19

from artforge.pipelines.stylize import StylizePipeline, vgg19_handle
from artforge.provenance import read_recipe

TINY = ["--size", "48", "--iterations", "3"]

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def files(tmp_path, art):
    art(1, size=50).save(tmp_path / "photo.png")
    art(2, size=64).save(tmp_path / "style.png")
    write_tiny_vgg19(tmp_path / "tiny.safetensors")
    write_tiny_vgg19(tmp_path / "other.pth", seed=1)
    return tmp_path


def test_stylize_with_vgg19_records_it_and_replays_only_with_that_file(cli, files, capsys):
    out, again = files / "out.png", files / "again.png"
    code = cli("stylize", files / "photo.png", files / "style.png", "--method", "optimize",
               "--vgg19", files / "tiny.safetensors", "--out", out, "--quiet", *TINY)
    assert code == 0 and Image.open(out).size == (48, 48)
    model = read_recipe(out)["model"]
    digest = hashlib.sha256((files / "tiny.safetensors").read_bytes()).hexdigest()
    assert model["arch"] == "vgg19" and model["sha256"] == digest and model["name"] == "tiny.safetensors"
    assert model["config"]["widths"][:3] == [4, 4, 8]
    capsys.readouterr()                                  # stylize's result line (printed with --quiet too)

    assert cli("replay", out, "--model", files / "tiny.safetensors", "--out", again, "--json") == 0
    assert json.loads(capsys.readouterr().out)["identical"] is True
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(again)))

    for extra, says in (([], "made with a VGG19 weights file"), (["--model", files / "other.pth"],
                                                                 "is not the feature network that made this file")):
        target = files / "nope.png"
        assert cli("replay", out, *extra, "--out", target) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and says in err and "--model" in err and "\n" not in err
        assert not target.exists()


def test_a_bad_vgg19_file_is_one_line_and_writes_nothing(cli, files, capsys):
    (files / "junk.pth").write_bytes(b"not a checkpoint")
    out = files / "o" / "out.png"
    assert cli("stylize", files / "photo.png", files / "style.png", "--vgg19", files / "junk.pth", "--out", out,
               *TINY) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "junk.pth" in err and "\n" not in err and "Traceback" not in err
    assert not out.exists() and not (files / "o").exists()


def test_python_api_measures_in_the_vgg_layers(files):
    totals = []
    pipe = StylizePipeline(vgg19_handle(files / "tiny.safetensors"), on_step=lambda p: totals.append(p["total"]))
    out = pipe(files / "photo.png", files / "style.png", size=48, iterations=5)
    assert out.images[0].size == (48, 48) and out.recipes[0]["model"]["arch"] == "vgg19"
    assert len(totals) == 5 and totals[-1] < totals[0]
