"""Samples become bytes in one place (io.images.uint8_images), and the metrics' bytes are those of the
formula each of them wrote out before: monitor, guard and evaluate give identical uint8 to it."""

from __future__ import annotations

import numpy as np
import torch

from artforge.io.images import to_uint8, uint8_images


def _before(x: torch.Tensor) -> torch.Tensor:
    """What metrics/monitor.py, guard.py and evaluate.py each computed before they shared the helper."""
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def _samples() -> torch.Tensor:
    """Random pictures beyond [-1, 1], with the edges and the rounding ties of every byte in the first one."""
    g = torch.Generator().manual_seed(27)
    x = torch.randn(6, 3, 16, 16, generator=g) * 1.5
    edges = torch.tensor([-1.0, 1.0, 0.0, -1.0001, 1.0001, -3.0, 3.0, -1e30, 1e30, float("-inf"), float("inf")])
    ties = (torch.arange(256, dtype=torch.float32) + 0.5) / 127.5 - 1        # halfway between two bytes
    flat = torch.cat([edges, ties, torch.arange(256, dtype=torch.float32) / 127.5 - 1])
    x.view(-1)[:len(flat)] = flat
    return x


def test_the_helper_gives_the_bytes_of_the_old_formula():
    x = _samples()
    assert torch.equal(uint8_images(x), _before(x))
    assert np.array_equal(to_uint8(x), _before(x).permute(0, 2, 3, 1).numpy())


def test_the_copy_guard_sees_the_bytes_of_the_old_formula(ref, fx):
    from artforge.metrics.guard import CopyGuard

    seen = []

    def recording(u8):
        seen.append(u8)
        return fx(u8)

    x = _samples()
    CopyGuard(ref.index, recording)(x)
    assert len(seen) == 1 and seen[0].dtype == torch.uint8 and torch.equal(seen[0], _before(x))


def test_evaluate_samples_are_the_bytes_of_the_old_formula(trained_run):
    from artforge.metrics.evaluate import SAMPLE_SEED, model_samples
    from artforge.pipelines import GeneratePipeline, load_model

    model = load_model(trained_run)
    x = GeneratePipeline(model).images(SAMPLE_SEED, 5, 1.0, 64)
    assert torch.equal(model_samples(model, 5), _before(x))


def test_monitor_reference_crops_are_the_bytes_of_the_old_formula(art, tmp_path):
    from artforge.data import DataConfig, load_dataset
    from artforge.metrics.monitor import reference_images

    for i in range(4):                                     # not square: random crops, no stacked tensor
        art(i, size=40).resize((40 + 8 * i, 40)).save(tmp_path / f"{i}.png")
    data = load_dataset(DataConfig(path=str(tmp_path), resolution=32, crop="random"))
    assert data.as_tensor() is None
    crops = data.batch(list(range(4)), torch.Generator().manual_seed(0))
    assert torch.equal(reference_images(data), _before(crops))
