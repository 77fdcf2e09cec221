"""The models the studio can create with: the starter plus every run folder under DATA_DIR/runs.

A model is named by 'starter' or by its run folder's name; names are checked and resolved inside the
runs folder (a name that would lead elsewhere, through '..' or a symlink, is refused). A run is deleted by
moving its folder aside in one rename (`ModelLibrary.move_aside`, into DATA_DIR/tmp, which every start
empties), then removing what was moved: a crash at any moment leaves the run listed whole or not at all.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import shutil
import threading
from collections import OrderedDict
from pathlib import Path

from .. import families
from ..errors import UserError
from ..io.weights import CONFIG_NAME, WEIGHTS_NAME
from ..metrics.memorization import INDEX_NAME
from ..models.pretrained import STARTER, starter_dir

RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# Files of a model folder the studio shows (sample grids, curves, evaluation figures and reports).
SHOWN_SUFFIXES = {".png": "image/png", ".json": "application/json", ".jsonl": "application/x-ndjson",
                  ".md": "text/markdown; charset=utf-8", ".gif": "image/gif"}
SHOWN_FILES = ("samples/latest.png", "loss.png", "kid.png", "eval/samples.png", "eval/memorization.png",
               "eval/report.md", "eval/report.json", "best/best.json")


class NotFound(UserError):
    """Something a request names does not exist (HTTP 404)."""


class PathRefused(UserError):
    """A path from a request would lead outside the data dir (HTTP 400)."""


class Protected(UserError):
    """A shipped model: part of artforge, not of the data dir; it cannot be deleted (HTTP 403)."""


def shipped(name: str) -> bool:
    """Whether `name` is one of the models that ship with artforge (every family's starters: artforge.families)."""
    return isinstance(name, str) and families.starter(name) is not None


def move_aside(path: Path, trash_dir: Path, label: str) -> Path:
    """`path` (a folder, or a link) moved to a new name in `trash_dir` in one rename; where it went.

    A crash after this leaves it in the trash, never half in place. When `trash_dir` is on another file
    system (rename cannot cross), it goes to a hidden name beside `path`, which no listing shows.
    """
    trash_dir.mkdir(parents=True, exist_ok=True)
    target = trash_dir / f"deleted-{label}-{secrets.token_hex(4)}"
    try:
        os.rename(path, target)
    except OSError as e:
        if e.errno != errno.EXDEV:                          # trash_dir is on another file system
            raise
        target = path.with_name(f".deleted-{label}-{secrets.token_hex(4)}")
        os.rename(path, target)
    return target


def discard(moved: Path) -> None:
    """Remove what `move_aside` moved (a link goes, never what it points at)."""
    if moved.is_symlink() or not moved.is_dir():
        moved.unlink(missing_ok=True)
    else:
        shutil.rmtree(moved, ignore_errors=True)


def inside(root: Path, relative: str) -> Path:
    """`root/relative` resolved, if it stays inside `root` (following symlinks); PathRefused otherwise.

    >>> inside(Path("/data"), "../etc/passwd")
    Traceback (most recent call last):
    ...
    artforge.studio.models.PathRefused: path '../etc/passwd' leads outside the studio's data dir
    """
    root = Path(root).resolve()
    if not relative or "\x00" in relative or Path(relative).is_absolute() or "\\" in relative:
        raise PathRefused(f"path {relative!r} leads outside the studio's data dir")
    try:
        p = (root / relative).resolve()
        p.exists()                      # a name too long for the file system fails here, not in the caller
    except (OSError, ValueError):
        raise PathRefused(f"path {relative[:200]!r} is not a usable path") from None
    if not p.is_relative_to(root):
        raise PathRefused(f"path {relative!r} leads outside the studio's data dir")
    return p


class LoadedModels:
    """A few loaded models by name, least recently used dropped first; one whose weights file changed
    (a run still training) is loaded again."""

    def __init__(self, device: str = "cpu", size: int = 4):
        self.device, self.size = device, size
        self._cache: OrderedDict[str, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, name: str, folder: Path, source: str | Path):
        """The ModelHandle of model `name` in `folder`, loaded from `source` (a shipped name or the folder)."""
        from ..pipelines import load_model

        weights = folder / WEIGHTS_NAME
        if not weights.is_file():
            raise NotFound(f"model {name!r} has no trained weights yet ({WEIGHTS_NAME})")
        stamp = weights.stat().st_mtime
        with self._lock:
            hit = self._cache.get(name)
            if hit and hit[0] == stamp:
                self._cache.move_to_end(name)
                return hit[1]
        handle = load_model(source, self.device)
        with self._lock:
            self._cache[name] = (stamp, handle)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return handle

    def forget(self, name: str) -> None:
        """Drop model `name` (deleted: a new run of that name must never get the old weights)."""
        with self._lock:
            self._cache.pop(name, None)


class ModelLibrary:
    """Finds model folders by name and keeps a few loaded (loading happens on the generation thread)."""

    def __init__(self, runs_dir: Path, device: str = "cpu", cache_size: int = 4):
        self.runs_dir, self.device = Path(runs_dir), device
        self._handles = LoadedModels(device, cache_size)

    def folder(self, name: str) -> Path:
        if name == STARTER:
            return starter_dir()
        if not isinstance(name, str) or not RUN_NAME.fullmatch(name):
            raise PathRefused(f"model {name!r}: give 'starter' or the name of a folder in {self.runs_dir}")
        p = inside(self.runs_dir, name)
        if not p.is_dir():
            raise NotFound(f"model {name!r} not found; models are 'starter' and the folders in {self.runs_dir}")
        return p

    def move_aside(self, name: str, trash_dir: Path) -> Path:
        """Run `name`'s folder out of the listing, into `trash_dir`, in one rename (see `move_aside`); where it
        went. The caller removes it with `discard` once the deletion is committed, or puts it back."""
        if shipped(name):
            raise Protected(f"model {name!r} ships with artforge and cannot be deleted")
        self.folder(name)                          # PathRefused or NotFound for a name that is no run here
        moved = move_aside(self.runs_dir / name, Path(trash_dir), f"run-{name}")
        self._handles.forget(name)
        return moved

    def put_back(self, name: str, moved: Path) -> None:
        """Undo `move_aside` (the deletion it was for did not commit)."""
        os.rename(moved, self.runs_dir / name)

    def describe(self, name: str) -> dict:
        folder = self.folder(name)
        ready = (folder / WEIGHTS_NAME).is_file() and (folder / CONFIG_NAME).is_file()
        config = {}
        if ready:
            try:
                config = json.loads((folder / CONFIG_NAME).read_text())
            except (OSError, ValueError):
                ready = False
        model = config.get("model", {}) if isinstance(config.get("model"), dict) else {}
        return {"name": name, "shipped": shipped(name), "family": config.get("family"), "arch": config.get("arch"),
                "resolution": model.get("resolution"), "z_dim": model.get("z_dim"), "ready": ready,
                "copy_check": (folder / INDEX_NAME).is_file(), "copy_check_note": self.copy_check_note(name),
                "dataset": config.get("dataset", {}),
                "files": [f for f in SHOWN_FILES if (folder / f).is_file()]}

    def copy_check_note(self, name: str) -> str | None:
        """Why `no_copies` cannot work with model `name` (for the form to say, and the 422), or None if it can.
        It names no path: the person asking may not be the one who runs the studio."""
        if (self.folder(name) / INDEX_NAME).is_file():
            return None
        return (f"model {name!r} has no copy-check index (its run was trained without one): its images cannot "
                "be compared with its training images, so 'No copies' is not available for it")

    def names(self) -> list[str]:
        runs = sorted(p.name for p in self.runs_dir.iterdir() if p.is_dir() and RUN_NAME.fullmatch(p.name)) \
            if self.runs_dir.is_dir() else []
        return [STARTER, *runs]

    def file(self, name: str, relative: str) -> tuple[Path, str]:
        """A file inside a model folder that the studio may show, and its media type."""
        folder = self.folder(name)
        p = inside(folder, relative)
        kind = SHOWN_SUFFIXES.get(p.suffix.lower())
        if kind is None:
            raise NotFound(f"{relative}: the studio shows only {', '.join(SHOWN_SUFFIXES)} files of a model")
        if not p.is_file():
            raise NotFound(f"{relative} not found in model {name!r}")
        return p, kind

    def load(self, name: str):
        """The loaded ModelHandle (cached; reloaded when the weights file changes)."""
        folder = self.folder(name)
        handle = self._handles.get(name, folder, name if name == STARTER else folder)
        if handle.config.get("family") != "gan":
            raise UserError(f"model {name!r} is a {handle.config.get('family')} model; generate needs an image model")
        return handle
