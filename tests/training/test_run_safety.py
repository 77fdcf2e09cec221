"""Run folders under misuse (issue 26): damaged files, divergence, two trainers, bad step counts, tiny data,
paths typed relative to somewhere else. Each case: one clear line, a non-zero exit, nothing good lost."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from artforge.training.checkpoint import latest_checkpoint, load_checkpoint

from test_bad_input import _one_line_error as _error_line


def _scribble(path: Path, offset: int, n: int = 1000) -> None:
    """Overwrite n bytes at `offset` with random bytes that differ from the old ones (as a bad disk would)."""
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    new = rng.integers(0, 256, n, dtype=np.uint8)
    new[new == np.frombuffer(bytes(data[offset:offset + n]), np.uint8)] ^= 0xFF
    data[offset:offset + n] = new.tobytes()
    path.write_bytes(bytes(data))


def _largest_record_offset(ckpt: Path) -> int:
    """Where the bytes of the checkpoint's largest tensor start (torch.save writes an uncompressed zip)."""
    with zipfile.ZipFile(ckpt) as z:
        info = max((i for i in z.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
    raw = ckpt.read_bytes()
    name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
    return info.header_offset + 30 + name_len + extra_len


def _train(cli, folder, run, steps, tiny, *extra) -> None:
    assert cli("train", "gan", folder, "--run", run, "--steps", steps, "--quiet", *tiny, *extra) == 0


# -- 1. damaged files are refused, never trained on or drawn from --------------------------------------
def test_random_bytes_in_model_weights_are_refused_by_generate(cli, trained_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    weights = run / "model.safetensors"
    header = struct.unpack("<Q", weights.read_bytes()[:8])[0]
    _scribble(weights, 8 + header + 64)
    capsys.readouterr()
    assert cli("generate", run, "-n", 2, "--out", tmp_path / "out") == 2
    assert _error_line(capsys) == (f"error: weights file {weights} is damaged: its tensors do not match the "
                                   "checksum written with them; restore it from a backup or retrain")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_random_bytes_in_a_checkpoint_are_refused_on_resume(cli, image_dir, tmp_path, capsys, tiny_overrides):
    run = tmp_path / "run"
    _train(cli, image_dir, run, 2, tiny_overrides, "train.keep_checkpoints=1")
    ckpt, _ = latest_checkpoint(run)
    _scribble(ckpt, _largest_record_offset(ckpt))
    torch.load(ckpt, weights_only=True)             # still a readable zip: only the checksum can tell
    before = (run / "model.safetensors").read_bytes()
    capsys.readouterr()
    assert cli("train", "--resume", run, "--steps", 4, "--quiet") == 2
    assert _error_line(capsys) == (f"error: checkpoint {ckpt} is damaged: its bytes do not match the checksum "
                                   "written with it (step-00000002.pt.sha256); no older checkpoint is left; "
                                   "start a new run")
    assert (run / "model.safetensors").read_bytes() == before and latest_checkpoint(run)[1] == 2


def test_a_run_that_diverges_stops_with_one_line_and_exports_nothing(cli, image_dir, tmp_path, capsys,
                                                                       tiny_overrides):
    run = tmp_path / "run"
    capsys.readouterr()
    assert cli("train", "gan", image_dir, "--run", run, "--steps", 5, "--quiet", *tiny_overrides,
               "gan.lr_g=1e38", "gan.lr_d=1e38") == 2
    assert _error_line(capsys) == ("error: training diverged at step 1: loss/G=nan; stopped. No checkpoint had "
                                   "been written yet. Lower the learning rate (or check the data) and start a "
                                   "new run")
    assert not (run / "model.safetensors").exists() and latest_checkpoint(run) is None
    # The folder holds nothing worth keeping, so the same --run may be started again.
    _train(cli, image_dir, run, 1, tiny_overrides)


# -- 3. one trainer per run folder ---------------------------------------------------------------------
def test_a_second_trainer_of_the_same_new_run_folder_is_refused(cli, image_dir, tmp_path, capsys,
                                                                tiny_overrides):
    run = tmp_path / "dup"
    run.mkdir()
    holder = os.open(run / ".lock", os.O_RDWR | os.O_CREAT)   # the first trainer, still loading its data
    fcntl.flock(holder, fcntl.LOCK_EX)
    os.write(holder, b"4242\n")
    try:
        assert cli("train", "gan", image_dir, "--run", run, "--steps", 1, "--quiet", *tiny_overrides) == 2
    finally:
        os.close(holder)
    assert _error_line(capsys) == (f"error: {run} is being trained by another artforge process (pid 4242); wait "
                                   "for it to finish or stop it, or choose another --run folder")
    assert sorted(p.name for p in run.iterdir()) == [".lock"]


# -- 5. step counts ------------------------------------------------------------------------------------
@pytest.mark.parametrize("steps", [-5, 0])
def test_zero_or_negative_steps_are_refused_before_anything_is_written(cli, image_dir, tmp_path, capsys,
                                                                       tiny_overrides, steps):
    capsys.readouterr()
    assert cli("train", "gan", image_dir, "--run", tmp_path / "r", "--steps", steps, *tiny_overrides) == 2
    assert _error_line(capsys) == (f"error: train.steps={steps} must be at least 1 (the run's total of "
                                   "optimizer steps)")
    assert not (tmp_path / "r").exists()


def test_resuming_below_the_current_step_is_refused(cli, image_dir, tmp_path, capsys, tiny_overrides):
    run = tmp_path / "run"
    _train(cli, image_dir, run, 3, tiny_overrides)
    metrics = (run / "metrics.jsonl").read_text()
    capsys.readouterr()
    assert cli("train", "--resume", run, "--steps", 2) == 2
    assert _error_line(capsys) == (f"error: --steps 2 is below the step {run} is at (3); --steps is the run's "
                                   "total, e.g. --steps 5 trains 2 more")
    assert (run / "metrics.jsonl").read_text() == metrics


def test_resuming_at_the_current_step_recomputes_nothing(cli, image_dir, tmp_path, capsys, tiny_overrides):
    run = tmp_path / "run"
    overrides = [o for o in tiny_overrides if not o.startswith("eval.")]
    _train(cli, image_dir, run, 2, overrides, "eval.kid_every=2", "eval.kid_samples=12", "gan.lr_g=0.01",
           "gan.lr_d=0.01")
    files = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in run.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert cli("train", "--resume", run, "--steps", 2) == 0
    assert capsys.readouterr().err == (f"{run} is already trained to step 2; nothing to do (to train longer, "
                                       "ask for a larger total: --steps 4)\n")
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in run.rglob("*") if p.is_file()} == files


# -- 6. too few images ---------------------------------------------------------------------------------
def test_a_one_image_folder_is_refused_before_the_run_folder_exists(cli, art, tmp_path, capsys,
                                                                   tiny_overrides):
    folder = tmp_path / "one"
    folder.mkdir()
    art(0).save(folder / "a.png")
    run = tmp_path / "run"
    capsys.readouterr()
    assert cli("train", "gan", folder, "--run", run, "--steps", 1, *tiny_overrides) == 2
    assert _error_line(capsys) == (f"error: {folder} has 1 usable image(s); training needs at least 2 (the copy "
                                   "check compares each with the others); add pictures")
    assert not run.exists()
    art(1).save(folder / "b.png")                   # the retry is not blocked by anything left behind
    _train(cli, folder, run, 1, tiny_overrides)


def test_data_check_says_how_many_images_training_needs(cli, art, tmp_path, capsys):
    folder = tmp_path / "one"
    folder.mkdir()
    art(0).save(folder / "a.png")
    assert cli("data", "check", folder) == 0
    assert capsys.readouterr().out.splitlines()[-1] == ("  training needs at least 2 usable images; add more "
                                                        "before artforge train")


# -- 9. the copy check works after any GAN run ---------------------------------------------------------
def test_every_gan_run_ends_with_its_copy_check_index(cli, trained_run, tmp_path):
    from artforge.metrics.memorization import INDEX_NAME, TrainIndex

    # trained_run was trained with eval.kid_every=0, so no KID monitor ever ran
    assert json.loads((trained_run / "train.json").read_text())["config"]["eval"]["kid_every"] == 0
    index = TrainIndex.load(trained_run / INDEX_NAME)
    assert tuple(index.feats.shape) == (12, 1280) and tuple(index.thumbs.shape) == (12, 768)
    assert cli("generate", trained_run, "-n", 2, "--no-copies", "--out", tmp_path / "g", "--quiet") == 0


# -- 4. paths typed relative to where training started -------------------------------------------------
def test_a_run_resumes_from_another_folder(cli, image_dir, tmp_path, monkeypatch, tiny_overrides):
    monkeypatch.chdir(image_dir.parent)
    _train(cli, image_dir.name, "runs/r", 2, tiny_overrides)
    assert json.loads(Path("runs/r/train.json").read_text())["config"]["data"]["path"] == str(image_dir)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert cli("train", "--resume", image_dir.parent / "runs" / "r", "--steps", 3, "--quiet") == 0
    assert latest_checkpoint(image_dir.parent / "runs" / "r")[1] == 3


def test_an_old_run_with_a_relative_data_path_finds_its_data_through_the_manifest(cli, image_dir, tmp_path,
                                                                                  monkeypatch, tiny_overrides):
    run = tmp_path / "run"
    _train(cli, image_dir, run, 2, tiny_overrides)
    body = json.loads((run / "train.json").read_text())
    body["config"]["data"]["path"] = image_dir.name        # what runs made before this fix hold
    (run / "train.json").write_text(json.dumps(body))
    monkeypatch.chdir(run)
    assert cli("train", "--resume", run, "--steps", 3, "--quiet") == 0
    assert json.loads((run / "train.json").read_text())["config"]["data"]["path"] == str(image_dir)


def test_data_may_move_when_its_hashes_match(cli, image_dir, tmp_path, capsys, tiny_overrides):
    run = tmp_path / "run"
    _train(cli, image_dir, run, 2, tiny_overrides)
    moved = tmp_path / "moved"
    shutil.copytree(image_dir, moved)
    assert cli("train", "--resume", run, "--steps", 3, f"data.path={moved}", "--quiet") == 0
    assert json.loads((run / "train.json").read_text())["config"]["data"]["path"] == str(moved)
    (moved / "art00.png").unlink()
    capsys.readouterr()
    assert cli("train", "--resume", run, "--steps", 4, f"data.path={moved}", "--quiet") == 2
    assert "changed since this run started" in _error_line(capsys)


# -- 10. file modes ------------------------------------------------------------------------------------
def test_exported_weights_have_the_same_mode_as_the_other_files(trained_run):
    mask = os.umask(0)
    os.umask(mask)
    modes = {name: (trained_run / name).stat().st_mode & 0o777
             for name in ("model.safetensors", "config.json", "train.json", "manifest.json")}
    assert modes == dict.fromkeys(modes, 0o666 & ~mask)


def test_checkpoints_carry_a_checksum_that_loading_checks(trained_run):
    ckpt, step = latest_checkpoint(trained_run)
    from artforge.io.weights import file_sha256

    assert (ckpt.parent / (ckpt.name + ".sha256")).read_text() == file_sha256(ckpt) + "\n"
    assert load_checkpoint(ckpt)["step"] == step == 3
