"""A folder of images as training tensors: checked, preprocessed once, cached, batched.

The cache is keyed by content, not by path: the same files in another folder (or renamed) reuse it.
Its files live under `<cache root>/datasets/<key>.{safetensors,json}`; the JSON records the verdict
on every distinct file content, so a repeat load only hashes the files and decodes nothing.

>>> import tempfile
>>> cfg = DataConfig(path="builtin", resolution=32, cache_dir=tempfile.mkdtemp())
>>> ds = load_dataset(cfg)                                # doctest: +SKIP
>>> ds.batch([0, 1], torch.Generator().manual_seed(0)).shape  # doctest: +SKIP
torch.Size([2, 3, 32, 32])
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from ..errors import DataError
from ..io.atomic import atomic_save, atomic_write_text
from . import images
from .builtin import builtin_folder
from .check import (
    CheckReport,
    DataConfig,
    Scan,
    Verdict,
    assemble_report,
    check_config,
    require_folder,
    require_usable,
    scan_folder,
)
from .images import BadImage, ImageInfo

log = logging.getLogger(__name__)

# Bump when preprocessing changes what pixels come out, so old caches are not reused.
CACHE_VERSION = 1
MANIFEST_VERSION = 1


def cache_root(cfg: DataConfig) -> Path:
    """cfg.cache_dir, else $ARTFORGE_CACHE_DIR, else $XDG_CACHE_HOME/artforge or ~/.cache/artforge."""
    if cfg.cache_dir:
        return Path(cfg.cache_dir).expanduser()
    if os.environ.get("ARTFORGE_CACHE_DIR"):
        return Path(os.environ["ARTFORGE_CACHE_DIR"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "artforge"


def resolve_data_path(cfg: DataConfig) -> Path:
    """The folder `cfg.path` names: 'builtin' is written to the cache on first use; missing -> DataError."""
    if not str(cfg.path).strip():  # Path("") would quietly mean the current folder
        raise DataError("data.path is empty; give a folder of images, or 'builtin'")
    if cfg.path != "builtin":
        return require_folder(cfg.path)
    root = cache_root(cfg)
    try:
        return builtin_folder(root)
    except OSError as e:
        raise DataError(
            f"cannot write the built-in images under {root} ({e.strerror or e});"
            " set ARTFORGE_CACHE_DIR to a writable folder"
        ) from None


def build_manifest(report: CheckReport, cfg: DataConfig) -> dict:
    """The JSON record of what a run trained on: files with hashes, licence, settings, what was skipped."""
    skipped = [{"path": b.path, "reason": b.reason} for b in report.bad]
    skipped += [{"path": d.path, "reason": f"duplicate of {d.duplicate_of}"} for d in report.duplicates]
    return {
        "manifest_version": MANIFEST_VERSION,
        "root": report.root,  # informational only: left out of the hash
        "licence": report.licence,
        "consent": report.consent,
        "preprocessing": _preprocessing(cfg),
        "counts": report.counts(),
        "files": [{"path": e.path, "sha256": e.sha256, "bytes": e.bytes} for e in report.ok],
        "skipped": sorted(skipped, key=lambda s: s["path"]),
    }


def manifest_sha256(manifest: dict) -> str:
    """sha256 of the canonical JSON of the files and preprocessing settings (no absolute paths)."""
    core = {"files": manifest["files"], "preprocessing": manifest["preprocessing"]}
    text = json.dumps(core, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_key(scan: Scan, cfg: DataConfig) -> str:
    """sha256 of the distinct content hashes and every setting that changes the cached pixels."""
    payload = {
        "cache_version": CACHE_VERSION,
        "files": sorted({f.sha256 for f in scan.files}),
        "resolution": cfg.resolution,
        "crop": cfg.crop,
        "background": cfg.background.lower(),
        # Which files count as usable depends on the pixel limit, so it is part of the key.
        "max_pixels": cfg.max_pixels,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class ImageDataset:
    """Preprocessed images in memory, plus the report and manifest they came from."""

    def __init__(self, tensors: list[torch.Tensor], report: CheckReport, manifest: dict, config: DataConfig):
        r = config.resolution
        self.config = config
        self.report = report
        self.manifest = manifest
        self.manifest_sha256 = manifest_sha256(manifest)
        self._stack = None
        if tensors and all(t.shape == (3, r, r) for t in tensors):
            # One block of memory; the list holds views into it, so nothing is stored twice.
            self._stack = torch.stack(tensors)  # (N, 3, R, R) uint8
            tensors = list(self._stack.unbind(0))
        self.images = tensors  # uint8 (3, h, w) each

    def __len__(self) -> int:
        return len(self.images)

    def as_tensor(self) -> torch.Tensor | None:
        """All images as uint8 (N, 3, R, R), or None when sizes differ (crop='random')."""
        return self._stack

    def batch(self, indices: list[int] | torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """float32 (B, 3, R, R) in [-1, 1]; crops and flips are drawn from `generator` only.

        Exactly two uniform numbers per image are drawn whatever the settings, so a resumed run that
        restores the generator state gets the same batches.
        """
        idx = torch.as_tensor(indices, dtype=torch.long).reshape(-1).cpu()
        u = torch.rand((len(idx), 2), generator=generator, device=generator.device).cpu()  # (B, 2)
        if self._stack is not None:
            x = self._stack[idx]  # (B, 3, R, R)
        else:
            x = torch.stack([self._crop(self.images[int(i)], float(u[k, 0])) for k, i in enumerate(idx)])
        if self.config.hflip and len(idx):
            flip = (u[:, 1] < 0.5).view(-1, 1, 1, 1)
            x = torch.where(flip, x.flip(-1), x)
        return x.float().div_(127.5).sub_(1.0)

    def _crop(self, img: torch.Tensor, u: float) -> torch.Tensor:
        r = self.config.resolution
        _, h, w = img.shape
        off = min(int(u * (max(h, w) - r + 1)), max(h, w) - r)
        return img[:, off : off + r, :] if h > w else img[:, :, off : off + r]


def load_dataset(cfg: DataConfig, progress: bool = False) -> ImageDataset:
    """Check, decode and preprocess the folder `cfg.path` names, through the cache; DataError if nothing is usable."""
    check_config(cfg)
    scan = scan_folder(resolve_data_path(cfg), cfg, progress)
    key = cache_key(scan, cfg)
    store = cache_root(cfg) / "datasets"
    cached = _read_cache(store, key, scan, cfg)
    if cached is None:
        cached = _decode_all(scan, cfg, progress)
        _write_cache(store, key, *cached)
    verdicts, tensors = cached
    report = assemble_report(scan, verdicts)
    require_usable(report)
    return ImageDataset([tensors[e.sha256] for e in report.ok], report, build_manifest(report, cfg), cfg)


# --- decoding and the cache ------------------------------------------------------------------


def _preprocessing(cfg: DataConfig) -> dict:
    return {
        "resolution": cfg.resolution,
        "crop": cfg.crop,
        "background": cfg.background.lower(),
        "hflip": cfg.hflip,
        "cache_version": CACHE_VERSION,
    }


def _decode_all(scan: Scan, cfg: DataConfig, progress: bool) -> tuple[dict[str, Verdict], dict[str, torch.Tensor]]:
    verdicts: dict[str, Verdict] = {}
    tensors: dict[str, torch.Tensor] = {}
    for f in tqdm(scan.files, desc="decoding", unit="img", disable=not progress, leave=False):
        if f.sha256 in verdicts:
            continue
        try:
            img, info = images.decode_image(f.abspath, cfg.max_pixels, cfg.background, cfg.resolution, cfg.crop)
            tensors[f.sha256] = images.to_tensor(images.preprocess(img, cfg.resolution, cfg.crop, cfg.background))
            verdicts[f.sha256] = info
        except BadImage as e:
            verdicts[f.sha256] = str(e)
        except OSError as e:
            verdicts[f.sha256] = f"{UNREADABLE}{e.strerror or e}"
    return verdicts, tensors


# The scan read every file to hash it, so a read that fails afterwards (the file moved or deleted in the
# meantime, an I/O error) says nothing about the content the key names: such verdicts are never cached.
UNREADABLE = "unreadable: "


def _content_verdict(v: Verdict) -> bool:
    return not (isinstance(v, str) and v.startswith(UNREADABLE))


def _write_cache(store: Path, key: str, verdicts: dict[str, Verdict], tensors: dict[str, torch.Tensor]) -> None:
    order = sorted(tensors)
    index = {
        "cache_version": CACHE_VERSION,
        "key": key,
        "images": order,  # img_00000 is the image whose file content has sha256 order[0], ...
        "verdicts": {s: (v if isinstance(v, str) else vars(v)) for s, v in sorted(verdicts.items())
                     if _content_verdict(v)},
    }
    named = {f"img_{i:05d}": tensors[s].contiguous() for i, s in enumerate(order)}
    try:
        atomic_save(store / f"{key}.safetensors", lambda tmp: save_file(named, str(tmp), metadata={"key": key}))
        # The index goes last: a reader that finds it knows the tensors beside it are complete.
        atomic_write_text(store / f"{key}.json", json.dumps(index, sort_keys=True) + "\n")
    except OSError as e:  # a read-only or full disk costs speed next time, not this run
        log.warning("could not write the dataset cache in %s (%s); continuing without it", store, e)


def _read_cache(
    store: Path, key: str, scan: Scan, cfg: DataConfig
) -> tuple[dict[str, Verdict], dict[str, torch.Tensor]] | None:
    """The cached verdicts and tensors, or None when absent or damaged in any way (then we rebuild)."""
    js, st = store / f"{key}.json", store / f"{key}.safetensors"
    if not (js.is_file() and st.is_file()):
        return None
    try:
        index = json.loads(js.read_text(encoding="utf-8"))
        if index.get("cache_version") != CACHE_VERSION or index.get("key") != key:
            return None
        verdicts = {s: (v if isinstance(v, str) else ImageInfo(**v)) for s, v in index["verdicts"].items()
                    if _content_verdict(v)}  # older caches hold such verdicts: decode those files again
        named = load_file(str(st))
        order = index["images"]
        tensors = {s: named[f"img_{i:05d}"] for i, s in enumerate(order)}
        if len(named) != len(order) or not all(_plausible(t, cfg) for t in tensors.values()):
            return None
        if any(not isinstance(verdicts.get(s), ImageInfo) for s in order):
            return None
        if any(f.sha256 not in verdicts for f in scan.files):
            return None
        return verdicts, tensors
    except Exception as e:  # truncated JSON, a bad safetensors header, missing keys, ...
        log.warning("ignoring a damaged dataset cache entry %s (%s); rebuilding it", js.with_suffix(""), e)
        return None


def _plausible(t: torch.Tensor, cfg: DataConfig) -> bool:
    r = cfg.resolution
    if t.dtype != torch.uint8 or t.dim() != 3 or t.shape[0] != 3:
        return False
    short, long = sorted(t.shape[1:])
    return short == r and (long == r or (cfg.crop == "random" and long <= 2 * r))
