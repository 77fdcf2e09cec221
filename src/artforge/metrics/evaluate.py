"""Evaluate generated images against reference images on EfficientNet-Lite0 features.

The figures are named for the network they use (FD_effnet, KID_effnet): they are not FID or KID on
Inception and cannot be compared with published FIDs, only with each other at equal image counts.

    >>> fx = FeatureExtractor(load_feature_net())                        # doctest: +SKIP
    >>> ref = load_reference(DataConfig(path="builtin"), fx)              # doctest: +SKIP
    >>> evaluate(model_samples(load_model("starter"), 500), ref, fx).figures["KID_effnet"]  # doctest: +SKIP
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ..data import DataConfig, cache_root, load_dataset
from ..errors import DataError, RecipeError
from ..features import FeatureExtractor
from ..features.extract import SHA256 as FEATURE_SHA256
from ..io.atomic import atomic_path
from ..io.images import uint8_images
from ..pipelines import GeneratePipeline, ModelHandle
from ..provenance.recipe import read_recipe
from .fd import fd_from_features
from .kid import kid
from .memorization import Matches, TrainIndex, build_index, nearest, summary_json, thumbnails
from .precision_recall import density_coverage, precision_recall

MIN_IMAGES = 10          # below this on either side no figure is given at all
GOOD_IMAGES = 1000       # from here on the figures are stable to a few percent
SAMPLE_SEED = 1_000_000  # evaluation samples use seeds far from the small ones people create with


def reliability(n_real: int, n_fake: int) -> str:
    n = min(n_real, n_fake)
    if n < 100:
        return (f"rough: {n} images on the smaller side; only large differences mean anything, and "
                "FD_effnet is biased upward (compare runs only at equal counts)")
    if n < GOOD_IMAGES:
        return (f"indicative: {n} images on the smaller side; KID_effnet is unbiased (trust it within its "
                f"std), FD_effnet is biased upward below ~{GOOD_IMAGES} images (compare at equal counts)")
    return f"good: {n} images on each side or more"


def figures(real: np.ndarray, fake: np.ndarray, seed: int = 0) -> dict:
    """FD_effnet, KID_effnet (+ std over subsets), precision/recall, density/coverage and the counts."""
    n_real, n_fake = len(real), len(fake)
    if min(n_real, n_fake) < MIN_IMAGES:
        raise DataError(f"evaluation needs at least {MIN_IMAGES} images on each side (got {n_real} reference, "
                        f"{n_fake} generated); a few hundred give usable figures, {GOOD_IMAGES}+ stable ones")
    kid_mean, kid_std = kid(real, fake, subsets=100, subset_size=min(1000, n_real, n_fake), seed=seed)
    precision, recall = precision_recall(real, fake, k=3)
    density, coverage = density_coverage(real, fake, k=5)
    return {"FD_effnet": fd_from_features(real, fake), "KID_effnet": kid_mean, "KID_effnet_std": kid_std,
            "precision": precision, "recall": recall, "density": density, "coverage": coverage,
            "n_reference": n_real, "n_generated": n_fake, "reliability": reliability(n_real, n_fake)}


@dataclass
class Reference:
    """Reference (training) images with their features, cached per dataset manifest hash."""
    images: torch.Tensor          # uint8 (N, 3, R, R)
    feats: np.ndarray             # (N, 1280)
    manifest_sha256: str
    path: str
    index: TrainIndex

    @property
    def thumbs(self) -> torch.Tensor:
        return self.index.thumbs


def dataset_images(cfg: DataConfig, progress: bool = False) -> tuple[torch.Tensor, str, str]:
    """uint8 (N, 3, R, R) images of a folder (random crops become centre crops), its manifest hash, root."""
    ds = load_dataset(replace(cfg, crop="center") if cfg.crop == "random" else cfg, progress)
    images = ds.as_tensor()
    if images is None:  # not all one size: cannot happen after center/pad cropping, but be safe
        raise DataError(f"{cfg.path}: images could not be brought to one size for evaluation")
    return images, ds.manifest_sha256, ds.report.root


def load_reference(cfg: DataConfig, fx: FeatureExtractor, progress: bool = False) -> Reference:
    images, manifest, root = dataset_images(cfg, progress)
    store = cache_root(cfg) / "features" / f"{manifest[:32]}-effnet-{FEATURE_SHA256[:12]}.safetensors"
    feats = None
    if store.is_file():
        try:
            feats = load_file(str(store))["feats"].numpy()
        except Exception:  # a damaged cache entry is recomputed, never trusted
            feats = None
        if feats is not None and feats.shape[0] != len(images):
            feats = None
    if feats is None:
        feats = fx(images)
        store.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(store) as tmp:
            save_file({"feats": torch.from_numpy(feats)}, str(tmp))
    return Reference(images, feats, manifest, root, build_index(feats, thumbnails(images), manifest))


def model_samples(model: ModelHandle, n: int, seed: int = SAMPLE_SEED, batch_size: int = 64) -> torch.Tensor:
    """n images from a model as uint8 (n, 3, R, R): image i from seed `seed + i`, no truncation."""
    x = GeneratePipeline(model).images(seed, n, 1.0, batch_size)
    return uint8_images(x)


@dataclass
class EvalResult:
    figures: dict
    memorization: dict
    matches: Matches
    samples: torch.Tensor         # uint8 (M, 3, R, R)
    reference: Reference

    def to_json(self) -> dict:
        return {"feature_network": "EfficientNet-Lite0 (ImageNet), pooled 1280-d, 224 px",
                **self.figures, "memorization": self.memorization,
                "reference": {"path": self.reference.path, "manifest_sha256": self.reference.manifest_sha256}}


def evaluate(samples: torch.Tensor, ref: Reference, fx: FeatureExtractor, seed: int = 0) -> EvalResult:
    """All figures and the copy check for uint8 samples against a reference."""
    feats = fx(samples)
    result = figures(ref.feats, feats, seed)
    matches = nearest(ref.index, feats, thumbnails(samples), k=3)
    return EvalResult(result, summary_json(ref.index, matches), matches, samples, ref)


def folder_images(path: str | Path, resolution: int, progress: bool = False) -> tuple[torch.Tensor, int, int]:
    """Any folder of generated images as uint8 at `resolution`, how many exact duplicates it held, and
    how many contact sheets (generate's `grid-*.png`) were left out: a sheet is not a sample."""
    cfg = DataConfig(path=str(path), resolution=resolution, hflip=False)
    ds = load_dataset(cfg, progress)
    images = ds.as_tensor()
    if images is None:
        raise DataError(f"{path}: images could not be brought to one size for evaluation")
    root = Path(ds.report.root)
    keep = [i for i, e in enumerate(ds.report.ok) if not is_contact_sheet(root / e.path)]
    return images[keep], len(ds.report.duplicates), len(ds.report.ok) - len(keep)


GRID_NAME = re.compile(r"grid-seed-?\d+-n\d+(-t[^/]+)?\.png")   # how `artforge generate` names its sheet


def is_contact_sheet(path: Path) -> bool:
    """Whether an image is generate's contact sheet: its recipe says so, or (recipe stripped) its name."""
    try:
        return read_recipe(path).get("output") == "grid"
    except RecipeError:
        return GRID_NAME.fullmatch(path.name) is not None
