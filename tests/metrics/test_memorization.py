"""The copy check: a training image shifted by a pixel and re-encoded as JPEG is flagged; new images are not."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from artforge.metrics.memorization import TrainIndex, build_index, nearest, thumbnails


def shifted_jpeg(img: torch.Tensor, quality: int = 85) -> torch.Tensor:
    """One pixel to the right (edge column repeated), then through JPEG: a copy a person would not notice."""
    shifted = torch.cat([img[..., :1], img[..., :-1]], dim=-1)
    buf = io.BytesIO()
    Image.fromarray(shifted.permute(1, 2, 0).numpy()).save(buf, "JPEG", quality=quality)
    return torch.from_numpy(np.array(Image.open(buf).convert("RGB"))).permute(2, 0, 1)


def test_copies_are_flagged_and_new_images_are_not(ref, landscapes, fx):
    _, held_out = landscapes
    copies = torch.stack([shifted_jpeg(ref.images[i]) for i in range(0, 48, 6)])
    m = nearest(ref.index, fx(copies), thumbnails(copies))
    assert m.flagged.all(), m.px_dist
    assert m.feat_idx[:, 0].tolist() == list(range(0, 48, 6)) or m.px_idx.tolist() == list(range(0, 48, 6))
    fresh = nearest(ref.index, fx(held_out), thumbnails(held_out))   # same painter, new pictures
    assert not fresh.flagged.any(), fresh.px_dist


def test_exact_copy_is_at_distance_zero(ref, fx):
    m = nearest(ref.index, fx(ref.images[:3]), thumbnails(ref.images[:3]), k=3)
    assert m.feat_idx[:, 0].tolist() == [0, 1, 2]
    assert torch.allclose(m.feat_dist[:, 0], torch.zeros(3), atol=1e-5) and m.flagged.all()
    assert (m.feat_dist[:, 1:] >= m.feat_dist[:, :1]).all()          # ascending


def test_thresholds_come_from_leave_one_out_distances():
    # four training points on a line, 1 apart, plus a far one: leave-one-out NN distances are 1,1,1,1,far
    thumbs = torch.zeros(5, 768)
    for i in range(4):
        thumbs[i, 0] = i * 768 ** 0.5          # RMS distance between neighbours = 1
    thumbs[4, 0] = 100 * 768 ** 0.5
    feats = torch.eye(5, 8)
    index = build_index(feats, thumbs, "x", quantile=0.0)
    assert index.tau_px == pytest.approx(1.0) and index.tau_feat == pytest.approx(1.0)


def test_index_round_trip(ref, tmp_path):
    path = tmp_path / "i.safetensors"
    ref.index.save(path)
    back = TrainIndex.load(path)
    assert back.tau_feat == ref.index.tau_feat and back.manifest_sha256 == ref.manifest_sha256
    assert torch.allclose(back.feats, ref.index.feats, atol=2e-3)       # stored as float16
    assert torch.allclose(back.thumbs, ref.index.thumbs, atol=1 / 255)  # stored as uint8
