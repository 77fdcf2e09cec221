"""Complete, versioned, atomic training checkpoints, loaded with `torch.load(weights_only=True)`.

A run keeps its checkpoints in `RUN/checkpoints/step-XXXXXXXX.pt` and names the one to resume from in
`RUN/checkpoints/latest` (a one-line pointer). Both are replaced atomically, and the pointer is moved only
after the checkpoint it names is complete, so a crash or SIGKILL at any moment leaves a good pointer.
Each checkpoint has its sha256 beside it (`step-XXXXXXXX.pt.sha256`, written before the pointer moves);
loading checks it, so bytes damaged on disk are refused instead of resumed into NaNs.
"""

from __future__ import annotations

import errno
import pickle
import random
from pathlib import Path

import numpy as np
import torch

from ..errors import RunError
from ..io.atomic import atomic_save, atomic_write_text
from ..io.weights import file_sha256

FORMAT_VERSION = 1
POINTER = "latest"
CHECKSUM_SUFFIX = ".sha256"


class DiskFullError(RunError):
    """The disk filled while a checkpoint was written; the previous checkpoint is still the one to resume."""


def rng_state() -> dict:
    """Every RNG the loop draws from, as tensors and plain values (weights_only-loadable)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "python": _python_state_to_list(random.getstate()),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _python_state_to_list(s: tuple) -> list:
    version, internal, gauss = s
    return [version, list(internal), gauss]


def checkpoint_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "checkpoints"


def save_checkpoint(run_dir: Path, state: dict, step: int, keep: int = 2) -> Path:
    """Write `state` as the checkpoint of `step`, point `latest` at it, prune old ones.

    A full disk raises DiskFullError and leaves the previous checkpoint and pointer untouched.
    """
    folder = checkpoint_dir(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"step-{step:08d}.pt"
    payload = {"format": FORMAT_VERSION, **state, "step": step}
    try:
        checksum_path(path).unlink(missing_ok=True)   # a rewrite of this step: never pair new bytes, old sum
        atomic_save(path, lambda tmp: torch.save(payload, tmp))
        atomic_write_text(checksum_path(path), file_sha256(path) + "\n")
        atomic_write_text(folder / POINTER, path.name + "\n")
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            last = latest_checkpoint(run_dir)
            kept = f"step {last[1]}" if last else "none yet"
            raise DiskFullError(
                f"disk full while writing checkpoint {path} (last good checkpoint: {kept}); "
                f"free some space, then resume with: artforge train --resume {run_dir}"
            ) from None
        raise
    _prune(folder, keep, path.name)
    return path


def _prune(folder: Path, keep: int, current: str) -> None:
    ckpts = sorted(folder.glob("step-*.pt"))
    for old in ckpts[:-max(keep, 1)]:
        if old.name != current:
            old.unlink(missing_ok=True)
            checksum_path(old).unlink(missing_ok=True)


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def latest_checkpoint(run_dir: Path) -> tuple[Path, int] | None:
    """The checkpoint `latest` points to (or, if the pointer is gone, the newest complete one)."""
    folder = checkpoint_dir(run_dir)
    pointer = folder / POINTER
    if pointer.is_file():
        name = pointer.read_text(encoding="utf-8").strip()
        if name.startswith("step-") and (folder / name).is_file():
            return folder / name, int(name[5:13])
    ckpts = sorted(folder.glob("step-*.pt"))
    return (ckpts[-1], int(ckpts[-1].name[5:13])) if ckpts else None


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint safely: tensors and plain containers only, never arbitrary pickled code; a file
    whose bytes no longer match the sha256 written beside it is refused (checkpoints from before the
    checksums load unchecked)."""
    path = Path(path)
    sidecar = checksum_path(path)
    if sidecar.is_file() and path.is_file():
        want = sidecar.read_text(encoding="utf-8").strip()
        if file_sha256(path) != want:
            raise RunError(f"checkpoint {path} is damaged: its bytes do not match the checksum written with it "
                           f"({sidecar.name}); {_older_hint(path)}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:  # PyTorch's text here suggests weights_only=False: never pass that on
        raise RunError(f"checkpoint {path} cannot be read: it holds something other than tensors and plain "
                       "values (damaged, or not an artforge checkpoint); artforge never loads code from a "
                       "checkpoint") from None
    except Exception as e:  # a damaged file or one that is not a checkpoint
        reason = str(e).splitlines()[0] if str(e) else ""
        raise RunError(f"checkpoint {path} cannot be read ({type(e).__name__}: {reason}); "
                       "it may be damaged or not an artforge checkpoint") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT_VERSION:
        raise RunError(f"checkpoint {path} is not an artforge checkpoint of format {FORMAT_VERSION}")
    return state


def _older_hint(path: Path) -> str:
    older = [p for p in sorted(path.parent.glob("step-*.pt")) if p.name < path.name]
    if not older:
        return "no older checkpoint is left; start a new run"
    return (f"an older one is {older[-1]}: to resume from it, write its name into "
            f"{path.parent / POINTER} and delete {path.name}")
