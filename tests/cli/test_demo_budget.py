"""`artforge demo --minutes N`: the demo's training stops when its time budget is spent, however many of its
steps that is, and the rest of the demo (evaluation, grid, loop) runs on the model it has."""

from __future__ import annotations

import json

from artforge.training.checkpoint import latest_checkpoint


def test_demo_training_stops_when_its_minutes_are_spent(cli, tmp_path, capsys):
    out = tmp_path / "demo"
    # 0.0001 minutes (6 ms) is spent by the first step, so the run stops there instead of at step 1,000.
    assert cli("demo", "--out", out, "--steps", 1000, "--minutes", 0.0001, "--resolution", 32,
               "--eval-samples", 16, "--quiet") == 0
    assert latest_checkpoint(out / "run")[1] == 1
    assert json.loads((out / "run" / "train.json").read_text())["config"]["train"]["budget_minutes"] == 0.0001
    assert (out / "grid.png").exists() and "demo done" in capsys.readouterr().out
