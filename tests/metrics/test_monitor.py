"""KID_effnet during training: logged beside the losses, plotted, best kept in best/, used by eval."""

from __future__ import annotations

import json

from artforge.io.weights import load_config


def test_kid_logged_plotted_and_best_kept(cli, image_dir, tmp_path, tiny_overrides, capsys):
    run = tmp_path / "run"
    overrides = [o for o in tiny_overrides if not o.startswith("eval.")]
    # lr 0.01: at the default rate four tiny steps draw one grey picture, which best/ refuses as collapsed
    assert cli("train", "gan", image_dir, "--run", run, "--steps", 4, "--quiet", *overrides,
               "eval.kid_every=2", "eval.kid_samples=12", "gan.lr_g=0.01", "gan.lr_d=0.01") == 0
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    kid = [r for r in records if "KID_effnet" in r]
    assert [r["step"] for r in kid] == [2, 4]                    # every 2 steps; the end is step 4 already
    assert all(r["KID_effnet_std"] > 0 and r["KID_effnet_samples"] == 12 for r in kid)
    assert any("loss/D" in r for r in records)                   # beside the losses
    assert (run / "kid.png").stat().st_size > 1000
    best = json.loads((run / "best" / "best.json").read_text())
    assert best["KID_effnet"] == min(r["KID_effnet"] for r in kid)
    assert load_config(run / "best" / "config.json") == load_config(run / "config.json")
    assert (run / "train_index.safetensors").is_file()
    capsys.readouterr()
    assert cli("eval", run, "--n", 12) == 0                      # eval takes best/ unless --last
    out = capsys.readouterr().out
    assert str(run / "best") in out and "KID_effnet" in out
    assert "kid.png" in (run / "eval" / "report.md").read_text()


def test_budget_stops_training_early(cli, image_dir, tmp_path, tiny_overrides):
    run = tmp_path / "run"
    assert cli("train", "gan", image_dir, "--run", run, "--steps", 1000, "--quiet", *tiny_overrides,
               "train.budget_minutes=0.0001", "train.budget_clock=cpu") == 0
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps and max(steps) < 5
    assert cli("train", "gan", image_dir, "--run", tmp_path / "r2", "--quiet", *tiny_overrides,
               "train.budget_clock=sundial") == 2
