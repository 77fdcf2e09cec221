"""`generate --no-copies`: flagged images are redrawn from new seeds, recorded in recipes, and replay exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from artforge.errors import UserError
from artforge.io.weights import WEIGHTS_NAME, file_sha256
from artforge.pipelines import GeneratePipeline, load_model
from artforge.pipelines.generate import MAX_REDRAWS, redraw_seed
from artforge.pipelines.replay import replay
from artforge.provenance import read_recipe
from artforge.provenance.write import save_image
from vivid_run import vivid_copy


class FlagFirstDraws:
    """A copy check that flags chosen images the first `times` times it sees them (by their pixels)."""

    def __init__(self, model, seeds: dict[int, int]):
        pipe = GeneratePipeline(model)
        self.left = {pipe.single(s, 1.0)[0].numpy().tobytes(): n for s, n in seeds.items()}
        self.calls = 0

    def __call__(self, images: torch.Tensor) -> list[dict]:
        self.calls += 1
        out = []
        for x in images:
            key = x.numpy().tobytes()
            hit = self.left.get(key, 0) > 0
            if hit:
                self.left[key] -= 1
            out.append({"flagged": hit, "nearest_train": 0, "feat_distance": 0.0 if hit else 0.5,
                        "pixel_distance": 0.0 if hit else 0.5})
        return out


@pytest.fixture(scope="module")
def vivid(trained_run, tmp_path_factory):
    """The trained run with pictures that differ from seed to seed (tests/vivid_run.py)."""
    return vivid_copy(trained_run, tmp_path_factory.mktemp("vivid") / "run")


def test_flagged_image_is_redrawn_and_replays(vivid, tmp_path):
    model = load_model(vivid)
    check = FlagFirstDraws(model, {12: 1})      # image 2 (seed 10 + 2) is "a copy" once
    out = GeneratePipeline(model, copy_check=check)(n=4, seed=10, batch_size=1, no_copies=True)
    r = out.recipes[2]["params"]
    assert r["redraws"] == 1 and r["image_seed"] == redraw_seed(12, 1) and r["copy_check"]["flagged"] is False
    assert all(out.recipes[i]["params"]["redraws"] == 0 for i in (0, 1, 3))
    assert out.recipes[-1]["params"]["redrawn"] == {"2": 1}
    plain = GeneratePipeline(model)(n=4, seed=10, batch_size=1)
    assert np.asarray(out.images[2]).tobytes() != np.asarray(plain.images[2]).tobytes()
    assert np.asarray(out.images[1]).tobytes() == np.asarray(plain.images[1]).tobytes()
    sha = file_sha256(vivid / WEIGHTS_NAME)
    for i in (2, 4):                            # the redrawn image and the grid replay bit-exactly
        f = save_image(out.images[i], tmp_path / f"{i}.png", out.recipes[i])
        new, same = replay(f, tmp_path / f"again-{i}.png", model=str(vivid))
        assert same is True
        assert np.asarray(Image.open(new).convert("RGB")).tobytes() == np.asarray(out.images[i]).tobytes()
        assert read_recipe(new)["model"]["sha256"] == sha
    assert read_recipe(tmp_path / "again-2.png")["params"] == {
        "n": 4, "seed": 10, "truncation": 1.0, "batch_size": 1, "no_copies": True, "index": 2,
        "image_seed": redraw_seed(12, 1), "redraws": 1, "copy_check": r["copy_check"]}
    assert read_recipe(tmp_path / "again-4.png")["params"] == {
        "n": 4, "seed": 10, "truncation": 1.0, "batch_size": 1, "no_copies": True, "redrawn": {"2": 1}}


def test_gives_up_after_max_redraws_and_says_so(trained_run):
    model = load_model(trained_run)

    def always(images):
        return [{"flagged": True} for _ in images]

    out = GeneratePipeline(model, copy_check=always)(n=1, seed=0, no_copies=True)
    p = out.recipes[0]["params"]
    assert p["redraws"] == MAX_REDRAWS and p["copy_check"]["flagged"] is True


def test_no_copies_without_a_check_is_an_error(trained_run):
    with pytest.raises(UserError, match="copy check"):
        GeneratePipeline(load_model(trained_run))(n=1, no_copies=True)


def test_starter_checks_by_default_with_its_shipped_index(cli, tmp_path):
    out = tmp_path / "s"
    assert cli("generate", "starter", "-n", 3, "--out", out, "--quiet") == 0
    recipes = [read_recipe(f) for f in sorted(out.glob("seed*.png"))]
    assert len(recipes) == 3
    for r in recipes:
        assert r["params"]["no_copies"] is True and r["params"]["copy_check"]["flagged"] is False
        assert r["params"]["copy_check"]["feat_distance"] > 0
    assert Image.open(sorted(out.glob("seed*.png"))[0]).size == (64, 64)


def test_run_without_index_gets_one_line_telling_how(cli, trained_run, tmp_path, capsys):
    import shutil
    run = tmp_path / "copy"
    shutil.copytree(trained_run, run, ignore=shutil.ignore_patterns("train_index.safetensors", "best"))
    assert cli("generate", run, "-n", 1, "--no-copies", "--out", tmp_path / "o") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "artforge eval" in err[0]
