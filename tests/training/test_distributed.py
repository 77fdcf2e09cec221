"""Data-parallel training with torchrun: 2 CPU processes on the gloo backend."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from artforge.training.checkpoint import latest_checkpoint, load_checkpoint


@pytest.mark.distributed
def test_two_process_gloo_training(image_dir, tmp_path, tiny_overrides, subprocess_env):
    run = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "artforge", "train", "gan", str(image_dir), "--run-dir", str(run), "--steps", "3", "--quiet",
           *tiny_overrides]
    proc = subprocess.run(cmd, env=subprocess_env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    state = load_checkpoint(latest_checkpoint(run)[0])
    assert state["step"] == 3 and state["nimg"] == 24  # batch 8 = 2 ranks x 4
    last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["world"] == 2 and last["ranks_in_sync"] is True
