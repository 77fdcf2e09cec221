"""Is the model handing back training images? Nearest training images of each sample, and a copy flag.

Two distances, because each misses what the other catches: cosine distance between EfficientNet-Lite0
features (a copy that was shifted, recoloured a little or re-encoded stays close), and RMS distance between
16 px thumbnails (an exact copy of a picture the features summarise loosely, e.g. a flat abstract).

The flag is calibrated on the training set itself: for each training image, its distance to the nearest
*other* training image (leave-one-out); tau is the `quantile` (1 %) of those distances, in each space. A
sample is flagged when it is closer to some training image than MARGIN (half) of tau, in either space: it
is much nearer to the data than the data is to itself. Measured on the built-in landscapes (48 training
images): one-pixel-shifted JPEG copies sit at <= 0.41 tau_px, new images of the same set at >= 0.77 tau_px,
so the margin separates them with room on both sides (tests/metrics/test_memorization.py).

    >>> index = build_index(feats, thumbnails(images), "abc")        # doctest: +SKIP
    >>> m = nearest(index, sample_feats, thumbnails(samples))         # doctest: +SKIP
    >>> m.flagged.float().mean()                                      # fraction flagged  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..io.weights import load_tensors, save_tensors

THUMB_PX = 16
QUANTILE = 0.01
MARGIN = 0.5
INDEX_NAME = "train_index.safetensors"


def thumbnails(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> (N, 3*16*16) float in [0, 1], area-averaged (blurs away 1 px shifts, JPEG noise)."""
    x = images.float() / 255.0 if images.dtype == torch.uint8 else (images.float() + 1) / 2
    return F.adaptive_avg_pool2d(x, THUMB_PX).flatten(1)


def _unit(feats: np.ndarray | torch.Tensor) -> torch.Tensor:
    return F.normalize(torch.as_tensor(np.asarray(feats), dtype=torch.float32), dim=1)


def _cos_dist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (1 - a @ b.T).clamp_min(0)                      # (M, N)


def _rms_dist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.cdist(a, b) / a.shape[1] ** 0.5           # (M, N)


@dataclass
class TrainIndex:
    """What the copy check needs to know about a training set; small enough to keep beside a model."""
    feats: torch.Tensor            # (N, D) unit-norm features
    thumbs: torch.Tensor           # (N, 768) thumbnails in [0, 1]
    tau_feat: float                # 1 % quantile of leave-one-out cosine distances (flag below MARGIN x this)
    tau_px: float                  # the same for thumbnail RMS distances
    manifest_sha256: str
    quantile: float = QUANTILE

    def save(self, path: str | Path) -> None:
        meta = {"tau_feat": repr(self.tau_feat), "tau_px": repr(self.tau_px), "quantile": repr(self.quantile),
                "manifest_sha256": self.manifest_sha256}
        save_tensors({"feats": self.feats.half(), "thumbs": (self.thumbs * 255).round().to(torch.uint8)}, path, meta)

    @classmethod
    def load(cls, path: str | Path) -> "TrainIndex":
        """The index in `path`; RunError when the file is damaged (its checksum fails)."""
        t, meta = load_tensors(path)
        return cls(t["feats"].float(), t["thumbs"].float() / 255, float(meta["tau_feat"]), float(meta["tau_px"]),
                   meta["manifest_sha256"], float(meta["quantile"]))


def _leave_one_out(d: torch.Tensor) -> torch.Tensor:
    d = d.clone()
    d.fill_diagonal_(float("inf"))
    return d.min(dim=1).values


def build_index(feats: np.ndarray | torch.Tensor, thumbs: torch.Tensor, manifest_sha256: str,
                quantile: float = QUANTILE) -> TrainIndex:
    """Calibrate the thresholds on the training set's own nearest-neighbour distances."""
    if len(thumbs) < 2:
        raise ValueError("the copy check needs at least 2 training images to calibrate")
    f = _unit(feats)
    nn_feat = _leave_one_out(_cos_dist(f, f))
    nn_px = _leave_one_out(_rms_dist(thumbs, thumbs))
    return TrainIndex(f, thumbs.float(), float(torch.quantile(nn_feat, quantile)),
                      float(torch.quantile(nn_px, quantile)), manifest_sha256, quantile)


@dataclass
class Matches:
    feat_dist: torch.Tensor        # (M, k) cosine distance to the k nearest training images, ascending
    feat_idx: torch.Tensor         # (M, k) their indices in the training set
    px_dist: torch.Tensor          # (M,) thumbnail RMS distance to the nearest training image
    px_idx: torch.Tensor           # (M,)
    flagged: torch.Tensor          # (M,) bool: closer than the data is to itself

    def to_json(self, i: int) -> dict:
        return {"flagged": bool(self.flagged[i]), "nearest_train": int(self.feat_idx[i, 0]),
                "feat_distance": round(float(self.feat_dist[i, 0]), 5), "pixel_distance": round(float(self.px_dist[i]), 5)}


def nearest(index: TrainIndex, feats: np.ndarray | torch.Tensor, thumbs: torch.Tensor, k: int = 3) -> Matches:
    """Nearest training images of each sample in both spaces, and the copy flag."""
    k = min(k, len(index.feats))
    fd, fi = _cos_dist(_unit(feats), index.feats).topk(k, dim=1, largest=False)
    pd, pi = _rms_dist(thumbs.float(), index.thumbs).min(dim=1)
    flagged = (fd[:, 0] < MARGIN * index.tau_feat) | (pd < MARGIN * index.tau_px)
    return Matches(fd, fi, pd, pi, flagged)


def describe(index: TrainIndex) -> str:
    return (f"flag when closer than half the distance within which {index.quantile:.0%} of training images have "
            f"another training image: feature cosine distance < {MARGIN * index.tau_feat:.4f} or 16 px RMS "
            f"< {MARGIN * index.tau_px:.4f}")


def summary_json(index: TrainIndex, m: Matches) -> dict:
    return {"checked": len(m.flagged), "flagged": int(m.flagged.sum()),
            "fraction_flagged": float(m.flagged.float().mean()) if len(m.flagged) else 0.0,
            "tau_feat": index.tau_feat, "tau_px": index.tau_px, "quantile": index.quantile,
            "rule": describe(index)}


__all__ = ["INDEX_NAME", "Matches", "TrainIndex", "build_index", "describe", "nearest", "summary_json",
           "thumbnails"]
