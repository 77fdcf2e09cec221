"""The KID monitor logs through `loop.log` (every callback sees its records, not just MetricsLog) and
reads the training pictures through the loop's typed data (`ImageData`), refusing data that is not."""

from __future__ import annotations

import json

import pytest
import torch

from artforge.config import apply_overrides
from artforge.metrics.monitor import KIDMonitor
from artforge.training.interfaces import Callback, ImageData
from artforge.training.loop import Loop, Phase, TrainConfig
from artforge.training.tasks.gan import GANExperiment, train


class _Records(Callback):
    def __init__(self):
        self.seen: list[dict] = []

    def on_log(self, loop, record: dict) -> None:
        self.seen.append(record)


def test_kid_records_reach_every_callback_as_metrics_jsonl_has_them(image_dir, tmp_path, tiny_overrides, fx):
    run = tmp_path / "run"
    exp = apply_overrides(GANExperiment(), [f"data.path={image_dir}", *tiny_overrides, "train.steps=2"])
    records = _Records()
    train(exp, run, quiet=True, log=lambda m: None,
          callbacks=[KIDMonitor(run, every=1, n_samples=12, extractor=lambda: fx), records])
    logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert records.seen == logged
    assert [r["step"] for r in records.seen if "KID_effnet" in r] == [1, 2]


class _Nothing:
    modules = {"net": torch.nn.Linear(1, 1)}
    ema_module = "net"

    def phases(self):
        return [Phase("fit", "net")]


class _Points:
    """Training data that is not pictures: a length and batches, nothing more."""

    def __len__(self):
        return 8

    def batch(self, indices, generator):
        return torch.zeros(len(indices), 1)


def test_kid_monitor_refuses_data_that_is_not_pictures(tmp_path):
    loop = Loop(_Nothing(), _Points(), TrainConfig(steps=1, batch_size=2, device="cpu"), tmp_path, quiet=True)
    assert not isinstance(loop.data, ImageData)
    with pytest.raises(TypeError) as e:
        KIDMonitor(tmp_path, every=1, extractor=lambda: None).on_start(loop)
    assert str(e.value) == ("KIDMonitor scores pictures, but the loop trains on _Points, which is not ImageData "
                            "(as_tensor, manifest_sha256)")


def test_the_image_dataset_is_image_data(image_dir):
    from artforge.data import DataConfig, load_dataset

    assert isinstance(load_dataset(DataConfig(path=str(image_dir), resolution=32)), ImageData)
