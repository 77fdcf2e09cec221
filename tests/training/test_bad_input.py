"""Every bad input the issue names: one clear line, a non-zero exit, no traceback, no damage."""

from __future__ import annotations

import errno

import pytest
import torch

from artforge.errors import RunError
from artforge.training import checkpoint as ckpt_mod
from artforge.training.checkpoint import latest_checkpoint, load_checkpoint


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    # Progress bars may come first (they go to stderr too); the error itself is one line.
    errors = [line for line in err.replace("\r", "\n").splitlines() if line.startswith("error")]
    assert len(errors) == 1 and err.rstrip().endswith(errors[0]), err
    return errors[0]


@pytest.mark.parametrize("setup, expect", [
    (lambda p: p / "missing", "not found"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "empty"),
    (lambda p: _all_bad(p), "no usable image"),
])
def test_bad_data_folders(cli, tmp_path, capsys, setup, expect, tiny_overrides):
    folder = setup(tmp_path)
    assert cli("train", "gan", folder, "--run", tmp_path / "run", *tiny_overrides) == 2
    assert expect in _one_line_error(capsys).lower()


def _all_bad(p):
    d = p / "bad"
    d.mkdir()
    (d / "a.png").write_bytes(b"")
    (d / "b.jpg").write_text("not a picture")
    return d


def test_unsupported_resolution(cli, image_dir, tmp_path, capsys):
    assert cli("train", "gan", image_dir, "--run", tmp_path / "r", "--resolution", 48) == 2
    assert "48" in _one_line_error(capsys)


def test_config_typo_names_the_closest_key(cli, image_dir, tmp_path, capsys):
    assert cli("train", "gan", image_dir, "--run", tmp_path / "r", "train.setps=10") == 2
    assert "train.steps" in _one_line_error(capsys)


def test_config_file_typo(cli, image_dir, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[gan]\nlr_dd = 0.1\n")
    assert cli("train", "gan", image_dir, "--run", tmp_path / "r", "--config", cfg) == 2
    err = _one_line_error(capsys)
    assert "gan.lr_d" in err and "c.toml" in err


def test_resume_a_folder_that_is_not_a_run(cli, tmp_path, capsys):
    (tmp_path / "x").mkdir()
    assert cli("train", "--resume", tmp_path / "x") == 2
    assert "not an artforge run" in _one_line_error(capsys)


def test_resume_with_conflicting_config(cli, image_dir, tmp_path, capsys, tiny_overrides):
    run = tmp_path / "run"
    assert cli("train", "gan", image_dir, "--run", run, "--steps", 1, "--quiet", *tiny_overrides) == 0
    capsys.readouterr()
    assert cli("train", "--resume", run, "gan.lr_d=0.1") == 2
    assert "gan.lr_d" in _one_line_error(capsys)


def test_new_run_never_overwrites_an_old_one(cli, image_dir, tmp_path, capsys, tiny_overrides):
    run = tmp_path / "run"
    assert cli("train", "gan", image_dir, "--run", run, "--steps", 1, "--quiet", *tiny_overrides) == 0
    capsys.readouterr()
    assert cli("train", "gan", image_dir, "--run", run, *tiny_overrides) == 2
    assert "--resume" in _one_line_error(capsys)


def test_full_disk_keeps_the_last_good_checkpoint(cli, image_dir, tmp_path, capsys, monkeypatch,
                                                  tiny_overrides):
    run = tmp_path / "run"
    real_save = torch.save
    calls = {"n": 0}

    def save_then_fill_the_disk(obj, f, *a, **k):
        calls["n"] += 1
        if calls["n"] >= 2:  # the first checkpoint fits, the second does not
            with open(f, "wb") as fh:
                fh.write(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, f, *a, **k)

    monkeypatch.setattr(ckpt_mod.torch, "save", save_then_fill_the_disk)
    rc = cli("train", "gan", image_dir, "--run", run, "--steps", 10, "--quiet", *tiny_overrides,
             "train.checkpoint_every=2")
    assert rc == 2
    err = _one_line_error(capsys)
    assert "disk full" in err and "step 2" in err
    path, step = latest_checkpoint(run)
    assert step == 2 and load_checkpoint(path)["step"] == 2
    assert not list((run / "checkpoints").glob(".*tmp")), "half-written checkpoint left behind"


def test_debug_shows_the_traceback(cli, tmp_path):
    with pytest.raises(RunError, match="run folder not found"):
        cli("train", "--resume", tmp_path / "nope", "--debug")


def test_a_negative_learning_rate(cli, image_dir, tmp_path, capsys):
    assert cli("train", "gan", image_dir, "--run", tmp_path / "r", "gan.lr_g=-0.001") == 2
    assert "gan.lr_g" in _one_line_error(capsys)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("size", [0, -4])
def test_a_batch_size_below_one_says_so(cli, image_dir, tmp_path, capsys, size):
    assert cli("train", "gan", image_dir, "--run", tmp_path / "r", f"train.batch_size={size}") == 2
    assert _one_line_error(capsys) == f"error: train.batch_size={size} must be at least 1 (images per optimizer step)"


class _NotATensor:
    pass


def test_a_checkpoint_holding_pickled_code_is_refused_without_pytorchs_advice(tmp_path):
    path = tmp_path / "step-00000001.pt"
    torch.save({"format": 1, "payload": _NotATensor()}, path)
    with pytest.raises(RunError) as e:
        load_checkpoint(path)
    assert str(e.value) == (f"checkpoint {path} cannot be read: it holds something other than tensors and plain "
                            "values (damaged, or not an artforge checkpoint); artforge never loads code from a "
                            "checkpoint")
