"""Scan a folder of images and say, file by file, what can be trained on and why not.

Every regular file under the folder (hidden names and the root `dataset.toml` aside) ends up in
exactly one list of the CheckReport: `ok`, `bad` (with a reason) or `duplicates` (same bytes as an
earlier file in sorted path order).

>>> import tempfile, pathlib
>>> from PIL import Image
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> Image.new("RGB", (32, 32), "blue").save(d / "a.png")
>>> _ = (d / "notes.txt").write_text("hello")
>>> r = check_folder(d, DataConfig(path=str(d)))
>>> [e.path for e in r.ok], [(b.path, b.reason) for b in r.bad]
(['a.png'], [('notes.txt', 'not an image')])
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import os
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from tqdm.auto import tqdm

from ..config import setting
from ..errors import DataError
from . import images
from .images import CROPS, BadImage, ImageInfo

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

TOML_NAME = "dataset.toml"
UNKNOWN = "unknown"
# A GAN run needs this many usable images: the copy check calibrates on each image's nearest other one.
MIN_TRAINING_IMAGES = 2


@dataclass
class DataConfig:
    """Where the images are and how they become training tensors (the `[data]` config section)."""

    path: str = setting("builtin", resume=True,  # may move on resume: the images' hashes are checked
                        help='a folder, or "builtin" for the built-in landscapes')
    resolution: int = setting(64, studio=True, min=16, max=1024, flag="--resolution", metavar="PX",
                              help="image size: 32, 64, 128, 256, ... (a power of two in 16..1024)")
    crop: str = setting("center", studio=True, help='non-square policy: "center" | "random" | "pad"')
    background: str = setting("#ffffff", studio=True, help="composited under alpha, and the pad colour")
    max_pixels: int = 50_000_000  # larger images are skipped as possible decompression bombs
    max_file_mb: float = 200.0  # larger files are skipped
    hflip: bool = setting(True, studio=True, help="random horizontal flip when batching")
    cache_dir: str = ""  # "" -> $ARTFORGE_CACHE_DIR, else ~/.cache/artforge


def check_config(cfg: DataConfig) -> None:
    """Raise DataError (one line, naming the key) when a data setting cannot work."""
    r = cfg.resolution
    if not isinstance(r, int) or r < 16 or r > 1024 or r & (r - 1):
        raise DataError(f"data.resolution must be a power of two from 16 to 1024 (e.g. 64), got {r!r}")
    if cfg.crop not in CROPS:
        raise DataError(f"data.crop must be one of {', '.join(map(repr, CROPS))}, got {cfg.crop!r}")
    try:
        images.parse_colour(cfg.background)
    except ValueError:
        raise DataError(f"data.background must be a colour like '#ffffff', got {cfg.background!r}") from None
    if not cfg.max_pixels > 0:
        raise DataError(f"data.max_pixels must be positive, got {cfg.max_pixels!r}")
    if not cfg.max_file_mb > 0:
        raise DataError(f"data.max_file_mb must be positive, got {cfg.max_file_mb!r}")


@dataclass
class FileEntry:
    """A usable image: relative posix path, content hash, size on disk, and what its header says."""

    path: str
    sha256: str
    bytes: int
    width: int
    height: int
    mode: str
    format: str


@dataclass
class BadFile:
    path: str
    reason: str


@dataclass
class Duplicate:
    path: str
    duplicate_of: str


@dataclass
class CheckReport:
    """The verdict on every file of a data folder."""

    root: str
    ok: list[FileEntry] = field(default_factory=list)
    bad: list[BadFile] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    licence: str = UNKNOWN
    consent: str = UNKNOWN

    def counts(self) -> dict[str, int]:
        n_ok, n_bad, n_dup = len(self.ok), len(self.bad), len(self.duplicates)
        return {"files": n_ok + n_bad + n_dup, "ok": n_ok, "bad": n_bad, "duplicates": n_dup}

    def to_json(self) -> dict:
        """One JSON-ready object: root, counts, licence, consent and the three lists."""
        return {
            "root": self.root,
            "counts": self.counts(),
            "licence": self.licence,
            "consent": self.consent,
            "ok": [dataclasses.asdict(e) for e in self.ok],
            "bad": [dataclasses.asdict(b) for b in self.bad],
            "duplicates": [dataclasses.asdict(d) for d in self.duplicates],
        }

    def summary(self, limit: int = 8) -> str:
        """A few lines for people: counts, then the first bad files and duplicates with reasons."""
        c = self.counts()
        lines = [
            f"{self.root}: {c['ok']} usable image(s), {c['bad']} skipped, {c['duplicates']} duplicate(s)"
            f" (licence: {self.licence}; consent: {self.consent})"
        ]
        shown = [f"  skipped {b.path}: {b.reason}" for b in self.bad]
        shown += [f"  duplicate {d.path} (same bytes as {d.duplicate_of})" for d in self.duplicates]
        lines += shown[:limit]
        if len(shown) > limit:
            lines.append(f"  ... and {len(shown) - limit} more (add --json to list them all)")
        if 0 < c["ok"] < MIN_TRAINING_IMAGES:
            lines.append(f"  training needs at least {MIN_TRAINING_IMAGES} usable images; add more before "
                         "artforge train")
        return "\n".join(lines)


@dataclass
class ScannedFile:
    """A candidate file found by `scan_folder`: hashed, not yet decoded."""

    path: str  # relative posix path
    abspath: Path
    bytes: int
    sha256: str


@dataclass
class Scan:
    root: Path
    files: list[ScannedFile]  # sorted by path
    bad: list[BadFile]  # rejected without decoding (zero bytes, too big, links out of the folder)


# What decoding one file concluded: its header info, or the reason it is unusable.
Verdict = Union[ImageInfo, str]


def require_folder(root: str | Path) -> Path:
    """The resolved folder, or DataError when it is missing or not a folder."""
    p = Path(root).expanduser()
    if not p.exists():
        raise DataError(f"data folder not found: {p}; give a folder of images, or 'builtin'")
    if not p.is_dir():
        raise DataError(f"data path is not a folder: {p}; give a folder of images, or 'builtin'")
    return p.resolve()


def scan_folder(root: str | Path, cfg: DataConfig, progress: bool = False) -> Scan:
    """List and hash every candidate file under `root` (no decoding); DataError if there are none."""
    root = require_folder(root)
    found, bad = walk_folder(root)
    if not found and not bad:
        raise DataError(
            f"data folder is empty: {root} (hidden files and {TOML_NAME} are ignored);"
            " add images (PNG, JPEG, WebP, BMP, TIFF, GIF) or use 'builtin'"
        )
    limit = cfg.max_file_mb * 1024 * 1024
    files = []
    for rel, p in tqdm(found, desc="hashing", unit="file", disable=not progress, leave=False):
        try:
            size = p.stat().st_size
            if size == 0:
                bad.append(BadFile(rel, "zero bytes"))
            elif size > limit:
                bad.append(BadFile(rel, f"file over max_file_mb ({size / 2**20:.1f} MB > {cfg.max_file_mb:g} MB)"))
            else:
                files.append(ScannedFile(rel, p, size, _sha256(p)))
        except OSError as e:
            bad.append(BadFile(rel, f"unreadable: {e.strerror or e}"))
    bad.sort(key=lambda b: b.path)
    return Scan(root, files, bad)


def check_folder(root: Path, cfg: DataConfig, progress: bool = False) -> CheckReport:
    """Scan, hash and fully decode every file under `root`; the report says what is usable and why not."""
    check_config(cfg)
    scan = scan_folder(root, cfg, progress)
    verdicts: dict[str, Verdict] = {}
    for f in tqdm(scan.files, desc="checking", unit="file", disable=not progress, leave=False):
        if f.sha256 not in verdicts:  # identical bytes decode identically; do it once
            try:
                verdicts[f.sha256] = images.inspect_image(f.abspath, cfg.max_pixels)
            except BadImage as e:
                verdicts[f.sha256] = str(e)
            except OSError as e:
                verdicts[f.sha256] = f"unreadable: {e.strerror or e}"
    return assemble_report(scan, verdicts)


def assemble_report(scan: Scan, verdicts: dict[str, Verdict]) -> CheckReport:
    """Join scanned files with their verdicts; the first good copy of some bytes wins, later ones are duplicates."""
    licence, consent = read_licence(scan.root)
    report = CheckReport(str(scan.root), licence=licence, consent=consent, bad=list(scan.bad))
    first: dict[str, str] = {}
    for f in scan.files:
        v = verdicts[f.sha256]
        if isinstance(v, str):  # bad bytes stay bad, so each copy shows its reason
            report.bad.append(BadFile(f.path, v))
        elif f.sha256 in first:
            report.duplicates.append(Duplicate(f.path, first[f.sha256]))
        else:
            first[f.sha256] = f.path
            report.ok.append(FileEntry(f.path, f.sha256, f.bytes, v.width, v.height, v.mode, v.format))
    report.bad.sort(key=lambda b: b.path)
    return report


def require_usable(report: CheckReport) -> None:
    """DataError naming the folder and the most common reason when no file is usable."""
    if report.ok:
        return
    n = len(report.bad)
    reason, k = collections.Counter(_reason_kind(b.reason) for b in report.bad).most_common(1)[0]
    raise DataError(
        f"no usable images in {report.root}: all {n} file(s) were skipped, most often for '{reason}'"
        f" ({k} file(s)); run `artforge data check {report.root}` to see why each was skipped"
    )


def read_licence(root: Path) -> tuple[str, str]:
    """(licence, consent) from `root/dataset.toml`, 'unknown' when absent; malformed -> DataError."""
    p = root / TOML_NAME
    if not p.is_file():
        return UNKNOWN, UNKNOWN
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        msg = " ".join(str(e).split())
        raise DataError(f"{p} is not valid TOML ({msg}); fix it or remove it") from None
    out = []
    for keys in (("licence", "license"), ("consent",)):
        value = next((data[k] for k in keys if k in data), UNKNOWN)
        if not isinstance(value, str):
            raise DataError(f"{p}: '{keys[0]}' must be a string, like {keys[0]} = \"CC-BY-4.0\"")
        out.append(value.strip() or UNKNOWN)
    return out[0], out[1]


# --- helpers ---------------------------------------------------------------------------------


def walk_folder(root: Path) -> tuple[list[tuple[str, Path]], list[BadFile]]:
    """Candidate (relative path, path) pairs in sorted order, plus links and oddities as BadFiles."""
    found: list[tuple[str, Path]] = []
    bad: list[BadFile] = []
    for dirpath, dirnames, filenames in os.walk(root):  # never follows directory links
        here = Path(dirpath)
        for d in list(dirnames):
            if d.startswith(".") or (here / d).is_symlink():
                dirnames.remove(d)
                # A link to a folder inside root is scanned anyway; one leading out is not followed.
                if not d.startswith(".") and not _inside(here / d, root):
                    bad.append(BadFile(_rel(here / d, root), "symlink leads outside the folder (not followed)"))
        for name in filenames:
            p = here / name
            if name.startswith(".") or (here == root and name == TOML_NAME):
                continue
            reason = _link_or_kind_problem(p, root)
            if reason:
                bad.append(BadFile(_rel(p, root), reason))
            else:
                found.append((_rel(p, root), p))
    found.sort()
    return found, bad


def _link_or_kind_problem(p: Path, root: Path) -> str | None:
    if p.is_symlink():
        if not p.exists():
            return "broken symlink"
        if not _inside(p, root):
            return "symlink leads outside the folder (not followed)"
    try:
        if not stat.S_ISREG(p.stat().st_mode):  # fifos and devices could block or never end
            return "not a regular file"
    except OSError as e:
        return f"unreadable: {e.strerror or e}"
    return None


def _inside(p: Path, root: Path) -> bool:
    try:
        p.resolve().relative_to(root)
        return True
    except (ValueError, OSError, RuntimeError):
        return False


def _rel(p: Path, root: Path) -> str:
    return p.relative_to(root).as_posix()


def _sha256(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _reason_kind(reason: str) -> str:
    # "over pixel limit (20000×20000 > ...)" and "over pixel limit (9000×9000 > ...)" are one kind.
    return reason.split(" (")[0].split(":")[0]
