"""Deterministic test images shared by the PSNR and SSIM tests."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F


@pytest.fixture
def reference_images() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(clean, noisy, blurred), each (3, 40, 36) float64 in [0, 1].

    The scikit-image reference numbers in test_psnr.py and test_ssim.py were computed on exactly
    these tensors; changing this function invalidates them.
    """
    g = torch.Generator().manual_seed(2024)
    grid = torch.linspace(0, 1, 40, dtype=torch.float64), torch.linspace(0, 1, 36, dtype=torch.float64)
    yy, xx = torch.meshgrid(*grid, indexing="ij")
    smooth = torch.stack([xx * yy, 1 - xx, 0.5 + 0.5 * torch.sin(6 * yy)])  # (3, 40, 36)
    clean = (0.2 + 0.6 * smooth + 0.1 * torch.rand(3, 40, 36, generator=g, dtype=torch.float64)).clamp(0, 1)
    noisy = (clean + 0.1 * (torch.rand(3, 40, 36, generator=g, dtype=torch.float64) - 0.5)).clamp(0, 1)
    box = torch.full((3, 1, 3, 3), 1 / 9, dtype=torch.float64)
    blurred = F.conv2d(F.pad(clean[None], (1, 1, 1, 1), mode="replicate"), box, groups=3)[0]
    return clean, noisy, blurred


@pytest.fixture(scope="session")
def fx():
    from artforge.features import FeatureExtractor, load_feature_net
    return FeatureExtractor(load_feature_net())


@pytest.fixture(scope="session")
def landscapes(tmp_path_factory):
    """(folder of 48 built-in landscapes at 64 px, 24 held-out ones from the same set as uint8 tensors)."""
    import numpy as np
    from artforge.data import generate_image

    folder = tmp_path_factory.mktemp("landscapes")
    for i in range(48):
        generate_image(i).resize((64, 64)).save(folder / f"{i:03d}.png")
    held = [np.array(generate_image(i).resize((64, 64)).convert("RGB")) for i in range(48, 72)]
    return folder, torch.from_numpy(np.stack(held)).permute(0, 3, 1, 2).contiguous()


@pytest.fixture(scope="session")
def ref(landscapes, fx, tmp_path_factory):
    """The 48 landscapes as a reference: features, images and copy-check index (embedded once per session)."""
    from artforge.data import DataConfig
    from artforge.metrics.evaluate import load_reference

    folder, _ = landscapes
    return load_reference(DataConfig(path=str(folder), cache_dir=str(tmp_path_factory.mktemp("cache"))), fx)
