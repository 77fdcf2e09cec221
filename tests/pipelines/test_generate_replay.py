"""Creating from a model: generate, interpolate, recipes inside files, bit-exact replay, redaction."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from artforge.errors import RecipeError, UserError
from artforge.io.video import read_frames
from artforge.io.weights import WEIGHTS_NAME, file_sha256
from artforge.pipelines import GeneratePipeline, InterpolatePipeline, load_model
from artforge.pipelines.replay import replay
from artforge.provenance import read_recipe
from vivid_run import vivid_copy


@pytest.fixture(scope="module")
def vivid(trained_run, tmp_path_factory):
    """The trained run with pictures that differ from seed to seed (tests/vivid_run.py)."""
    return vivid_copy(trained_run, tmp_path_factory.mktemp("vivid") / "run")


def _pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_generate_writes_images_with_recipes(cli, trained_run, tmp_path):
    out = tmp_path / "out"
    assert cli("generate", trained_run, "-n", 5, "--seed", 7, "--truncation", 0.7, "--batch-size", 2,
               "--out", out, "--quiet") == 0
    files = [out / f"seed{s}-t0.7.png" for s in range(7, 12)]
    assert sorted(out.glob("seed*.png")) == sorted(files)
    grid = out / "grid-seed7-n5-t0.7.png"
    assert grid.exists()
    r = read_recipe(files[2])
    assert r["pipeline"] == "generate" and r["output"] == "image"
    assert r["params"] == {"n": 5, "seed": 7, "truncation": 0.7, "batch_size": 2, "no_copies": False, "index": 2,
                           "image_seed": 9}
    assert r["dataset"]["licence"] == "CC-BY-4.0" and r["dataset"]["consent"] == "my own work"
    assert len(r["model"]["sha256"]) == 64 and r["artforge_version"]
    assert _pixels(files[0]).shape == (32, 32, 3)


def test_replay_is_bit_identical_for_every_image_and_the_grid(cli, vivid, tmp_path):
    out = tmp_path / "out"
    assert cli("generate", vivid, "-n", 5, "--seed", 3, "--batch-size", 2, "--out", out, "--quiet") == 0
    # What the pipeline computes afresh for these settings (the files' recipes are not the reference: replay
    # writes the recipe it read, so comparing the two files' recipes would compare a recipe with itself).
    fresh = GeneratePipeline(load_model(vivid))(n=5, seed=3, batch_size=2)
    sha = file_sha256(vivid / WEIGHTS_NAME)
    files = [out / f"seed{s}.png" for s in range(3, 8)] + [out / "grid-seed3-n5.png"]
    assert sorted(out.glob("*.png")) == sorted(files)
    for f, image, recipe in zip(files, fresh.images, fresh.recipes):
        new, same = replay(f, tmp_path / f"replay-{f.name}")
        assert same is True, f.name
        assert _pixels(new).tobytes() == _pixels(f).tobytes() == np.asarray(image.convert("RGB")).tobytes(), f.name
        got = read_recipe(new)
        assert got["model"]["sha256"] == sha == recipe["model"]["sha256"], f.name
        assert got["params"] == recipe["params"], f.name
    assert read_recipe(tmp_path / "replay-seed5.png")["params"] == {
        "n": 5, "seed": 3, "truncation": 1.0, "batch_size": 2, "no_copies": False, "index": 2, "image_seed": 5}


def test_same_seed_same_image_regardless_of_batch(vivid):
    pipe = GeneratePipeline(load_model(vivid))
    a = pipe(n=4, seed=10, batch_size=4).images[2]
    b = pipe(n=1, seed=12).images[0]
    assert np.asarray(a).tobytes() == np.asarray(b).tobytes()  # bit-identical in any batch (docs/benchmarks.md)


def test_interpolation_gif_and_mp4_replay(cli, trained_run, tmp_path):
    gif, mp4 = tmp_path / "walk.gif", tmp_path / "walk.mp4"
    assert cli("interpolate", trained_run, "--seeds", "1,2,3", "--frames", 12, "--loop", "--out", gif,
               "--quiet") == 0
    assert cli("interpolate", trained_run, "--seeds", "1,2", "--frames", 6, "--out", mp4, "--quiet") == 0
    frames = read_frames(gif)
    assert frames[0].size == (32, 32)
    # GIF writers fold identical consecutive frames into one longer frame: count time, not frames.
    with Image.open(gif) as im:
        total_ms = 0
        for i in range(im.n_frames):
            im.seek(i)
            total_ms += im.info["duration"]
    assert abs(total_ms - 12 * 1000 / 24) <= 12 * 10  # GIF keeps delays in hundredths of a second
    assert len(read_frames(mp4)) == 6
    r = read_recipe(gif)
    assert r["pipeline"] == "interpolate" and r["params"]["seeds"] == [1, 2, 3] and r["params"]["loop"] is True
    assert read_recipe(mp4)["params"]["frames"] == 6
    new, same = replay(gif, tmp_path / "again.gif")
    assert same is True


def test_interpolation_passes_through_the_seed_images(trained_run):
    model = load_model(trained_run)
    walk = InterpolatePipeline(model)(seeds=[4, 5], frames=5).images
    ends = GeneratePipeline(model)(n=2, seed=4, batch_size=1).images
    for got, want in ((walk[0], ends[0]), (walk[-1], ends[1])):
        assert np.abs(np.asarray(got, dtype=int) - np.asarray(want, dtype=int)).max() <= 1


def test_redact_and_strip(cli, trained_run, tmp_path, capsys):
    out = tmp_path / "r"
    assert cli("generate", trained_run, "-n", 1, "--out", out, "--redact", "model.path,dataset,created",
               "--quiet") == 0
    r = read_recipe(out / "seed0.png")
    assert "path" not in r["model"] and "dataset" not in r and "created" not in r
    assert r["redacted"] == ["created", "dataset", "model.path"]
    # Still replayable: the model is found by hash (its path was redacted, so it is named here).
    assert replay(out / "seed0.png", tmp_path / "again.png", model=str(trained_run))[1] is True
    stripped = tmp_path / "s"
    assert cli("generate", trained_run, "-n", 1, "--out", stripped, "--redact", "all", "--quiet") == 0
    with pytest.raises(RecipeError):
        read_recipe(stripped / "seed0.png")
    assert cli("generate", trained_run, "-n", 1, "--out", tmp_path / "x", "--redact", "nosuch") == 2
    assert "nosuch" in capsys.readouterr().err


def test_recipe_verb_prints_json(cli, trained_run, tmp_path, capsys):
    out = tmp_path / "o"
    assert cli("generate", trained_run, "-n", 1, "--seed", 5, "--out", out, "--quiet") == 0
    capsys.readouterr()
    assert cli("recipe", out / "seed5.png") == 0
    assert json.loads(capsys.readouterr().out)["params"]["image_seed"] == 5


def test_replay_finds_a_moved_model_with_model_flag_and_refuses_a_wrong_one(cli, trained_run, tmp_path, capsys):
    out = tmp_path / "o"
    assert cli("generate", trained_run, "-n", 1, "--out", out, "--quiet") == 0
    moved = tmp_path / "moved"
    shutil.copytree(trained_run, moved, ignore=shutil.ignore_patterns("checkpoints"))
    recipe = read_recipe(out / "seed0.png")
    recipe["model"]["path"] = str(tmp_path / "gone")
    from artforge.provenance.write import save_image
    save_image(Image.open(out / "seed0.png"), tmp_path / "lost.png", recipe)
    capsys.readouterr()
    assert cli("replay", tmp_path / "lost.png", "--out", tmp_path / "n.png") == 2
    assert "was not found" in capsys.readouterr().err
    assert cli("replay", tmp_path / "lost.png", "--out", tmp_path / "n.png", "--model", moved, "--json") == 0
    assert json.loads(capsys.readouterr().out)["identical"] is True
    assert cli("replay", tmp_path / "lost.png", "--out", tmp_path / "n.png", "--model", "starter") == 2
    assert "is not the model" in capsys.readouterr().err


def test_replay_of_a_png_without_recipe(cli, tmp_path, capsys):
    Image.new("RGB", (8, 8)).save(tmp_path / "plain.png")
    assert cli("replay", tmp_path / "plain.png", "--out", tmp_path / "n.png") == 2
    err = capsys.readouterr().err
    assert "carries no artforge recipe" in err and "Traceback" not in err


def test_parameters_are_checked_against_their_declaration(trained_run):
    pipe = GeneratePipeline(load_model(trained_run))
    with pytest.raises(UserError, match="truncation"):
        pipe(n=1, truncation=5.0)
    with pytest.raises(UserError, match="unknown parameter"):
        pipe(n=1, colour="red")
    schema = GeneratePipeline.schema()
    assert [p["name"] for p in schema["params"]] == ["n", "seed", "truncation", "batch_size", "no_copies"]


def test_truncation_pulls_images_toward_the_mean(trained_run):
    pipe = GeneratePipeline(load_model(trained_run))

    def spread(t: float) -> float:
        x = np.stack([np.asarray(im, dtype=float) for im in pipe(n=8, seed=0, truncation=t).images[:-1]])
        return float(x.std(axis=0).mean())

    assert spread(0.0) < 1e-6  # every seed gives the one mean image
    assert spread(0.5) < spread(1.0)
