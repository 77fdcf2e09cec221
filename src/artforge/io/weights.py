"""Inference weights as safetensors + config.json (the Hugging Face layout), and model hashes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ..errors import RunError
from .atomic import atomic_save, atomic_write_text

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
# Metadata key of the checksum every tensor file artforge writes carries (files without it load unchecked).
CHECKSUM_KEY = "artforge.tensors_sha256"


def tensors_sha256(tensors: dict[str, torch.Tensor]) -> str:
    """sha256 over every tensor's name, dtype, shape and raw bytes, in name order (independent of the file
    layout, so it can be written into the file's own header).

    >>> tensors_sha256({"w": torch.zeros(2)}) == tensors_sha256({"w": torch.zeros(2)})
    True
    """
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def save_tensors(tensors: dict[str, torch.Tensor], path: str | Path, metadata: dict | None = None) -> None:
    """Write tensors as safetensors, atomically, with their checksum in the header's metadata."""
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    meta = {k: str(v) for k, v in (metadata or {}).items()}
    meta[CHECKSUM_KEY] = tensors_sha256(tensors)
    atomic_save(path, lambda tmp: save_file(tensors, str(tmp), metadata=meta))


def load_tensors(path: str | Path, device: str | torch.device = "cpu") -> tuple[dict[str, torch.Tensor], dict]:
    """(tensors, metadata) of a safetensors file; RunError when it is missing, unreadable, or its tensors
    do not match the checksum written with them (bytes changed on disk)."""
    p = Path(path)
    if not p.is_file():
        raise RunError(f"weights not found: {p}")
    try:
        with safe_open(str(p), "pt") as f:
            meta = dict(f.metadata() or {})
        tensors = load_file(str(p), device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise RunError(f"weights file {p} is damaged ({e}); retrain or restore it from a backup") from None
    want = meta.pop(CHECKSUM_KEY, None)
    if want is not None and tensors_sha256(tensors) != want:
        raise RunError(f"weights file {p} is damaged: its tensors do not match the checksum written with them; "
                       "restore it from a backup or retrain")
    if str(device) != "cpu":
        tensors = {k: v.to(device) for k, v in tensors.items()}
    return tensors, meta


def save_weights(module_or_state: torch.nn.Module | dict, path: str | Path, metadata: dict | None = None) -> None:
    """Write a state dict as safetensors, atomically (tensors made contiguous and moved to CPU), checksummed."""
    state = module_or_state.state_dict() if isinstance(module_or_state, torch.nn.Module) else module_or_state
    save_tensors({k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}, path, metadata)


def load_weights(path: str | Path, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """Read a safetensors file; a missing, damaged or checksum-failing file is a RunError naming it."""
    return load_tensors(path, device)[0]


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_config(config: dict, path: str | Path) -> None:
    atomic_write_text(path, json.dumps(config, indent=2, sort_keys=True) + "\n")


def load_config(path: str | Path) -> dict:
    p = Path(path)
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{p} not found: this folder holds no artforge model") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise RunError(f"{p} is not valid JSON ({e})") from None
