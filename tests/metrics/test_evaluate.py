"""Figures on real features: held-out images of the same set score near zero; noise scores far away."""

import pytest
import torch

from artforge.data import DataConfig
from artforge.errors import DataError
from artforge.metrics.evaluate import evaluate, figures, load_reference, reliability


def test_same_distribution_scores_better_than_noise(ref, landscapes, fx):
    _, held_out = landscapes
    same = evaluate(held_out, ref, fx).figures
    noise = evaluate(torch.randint(0, 256, (24, 3, 64, 64), dtype=torch.uint8), ref, fx).figures
    assert abs(same["KID_effnet"]) < 3 * same["KID_effnet_std"] + 0.01
    assert noise["KID_effnet"] > 10 * max(same["KID_effnet"], 0.005)
    assert noise["FD_effnet"] > 3 * same["FD_effnet"]
    assert same["precision"] > 0.5 and same["recall"] > 0.5 and noise["precision"] == 0
    assert same["n_reference"] == 48 and same["n_generated"] == 24
    assert same["reliability"].startswith("rough")


def test_reference_features_are_cached_per_manifest(landscapes, fx, tmp_path):
    folder, _ = landscapes
    cfg = DataConfig(path=str(folder), cache_dir=str(tmp_path))
    first = load_reference(cfg, fx)
    calls = []                                       # a second load must not embed anything
    second = load_reference(cfg, lambda x: calls.append(x))
    assert calls == [] and (second.feats == first.feats).all()
    assert len(list((tmp_path / "features").glob(f"{first.manifest_sha256[:32]}-*.safetensors"))) == 1


def test_too_few_images_is_one_clear_error():
    with pytest.raises(DataError, match="at least 10 images"):
        figures(torch.randn(50, 8).numpy(), torch.randn(4, 8).numpy())


def test_reliability_wording():
    assert reliability(5000, 50).startswith("rough")
    assert reliability(400, 400).startswith("indicative")
    assert reliability(2000, 1000).startswith("good")
