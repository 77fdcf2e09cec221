"""best/ cannot be won by a degenerate model (issue 26): a collapsed one (every latent draws about the same
picture) or a saturated one (a diverged generator's pure black and white) is never kept, whatever its KID."""

from __future__ import annotations

import json

import torch

from artforge.metrics.monitor import COLLAPSE_RATIO, degenerate, saturation, spread


def _u8(images) -> torch.Tensor:
    import numpy as np
    return torch.stack([torch.from_numpy(np.asarray(im.convert("RGB")).copy()).permute(2, 0, 1) for im in images])


def test_the_training_set_itself_is_not_degenerate(art):
    ref = _u8([art(i, size=32) for i in range(12)])
    assert degenerate(ref, spread(ref), saturation(ref)) is None


def test_one_picture_for_every_latent_is_collapsed(art):
    ref = _u8([art(i, size=32) for i in range(12)])
    same = _u8([art(3, size=32)] * 16)
    assert spread(same) == 0.0
    assert degenerate(same, spread(ref), saturation(ref)) == (
        f"the samples have collapsed: they vary 0.000 as much as the training images (under {COLLAPSE_RATIO})")


def test_pure_black_and_white_samples_are_saturated(art):
    ref = _u8([art(i, size=32) for i in range(12)])
    blobs = (torch.rand(16, 1, 32, 32, generator=torch.Generator().manual_seed(0)) < 0.3).to(torch.uint8) * 255
    blobs = blobs.expand(-1, 3, -1, -1)                 # black blobs on white, different in every sample
    assert degenerate(blobs, spread(ref), saturation(ref)) == (
        f"the samples are saturated: 100% of their pixels are pure black or white (training images: "
        f"{saturation(ref):.0%})")


def _kid_records(run) -> list[dict]:
    return [r for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if "KID_effnet" in r]


def _kid_run(cli, image_dir, run, tiny_overrides, *extra) -> int:
    overrides = [o for o in tiny_overrides if not o.startswith("eval.")]
    return cli("train", "gan", image_dir, "--run", run, "--steps", 2, *overrides, "eval.kid_every=1",
               "eval.kid_samples=12", *extra)


def test_a_collapsed_model_never_becomes_best(cli, image_dir, tmp_path, tiny_overrides, capsys):
    run = tmp_path / "run"
    assert _kid_run(cli, image_dir, run, tiny_overrides) == 0      # two steps: the tiny G draws one grey
    records = _kid_records(run)
    assert [r["step"] for r in records] == [1, 2]
    assert all(r["best_refused"].startswith("the samples have collapsed") for r in records)
    assert not (run / "best").exists()
    notes = [line for line in capsys.readouterr().err.replace("\r", "\n").splitlines() if "not kept in" in line]
    assert notes == [f"step {r['step']}: {r['best_refused']}; not kept in {run / 'best'}" for r in records]


def test_a_diverged_model_drawing_black_blobs_never_becomes_best(cli, image_dir, tmp_path, tiny_overrides):
    run = tmp_path / "run"
    assert _kid_run(cli, image_dir, run, tiny_overrides, "gan.lr_g=100", "gan.lr_d=100", "--quiet") == 0
    records = _kid_records(run)
    assert [r["step"] for r in records] == [1, 2]
    assert all(r["best_refused"].startswith("the samples are saturated: 100% of their pixels") for r in records)
    assert not (run / "best").exists()
