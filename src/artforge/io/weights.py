"""Inference weights as safetensors + config.json (the Hugging Face layout), and model hashes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..errors import RunError
from .atomic import atomic_save, atomic_write_text

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"


def save_weights(module_or_state: torch.nn.Module | dict, path: str | Path, metadata: dict | None = None) -> None:
    """Write a state dict as safetensors, atomically (tensors made contiguous and moved to CPU)."""
    state = module_or_state.state_dict() if isinstance(module_or_state, torch.nn.Module) else module_or_state
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}
    meta = {k: str(v) for k, v in (metadata or {}).items()}
    atomic_save(path, lambda tmp: save_file(tensors, str(tmp), metadata=meta))


def load_weights(path: str | Path, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """Read a safetensors file; a missing or damaged file is a RunError naming it."""
    p = Path(path)
    if not p.is_file():
        raise RunError(f"weights not found: {p}")
    try:
        return load_file(str(p), device=str(device))
    except (SafetensorError, OSError, ValueError) as e:
        raise RunError(f"weights file {p} is damaged ({e}); retrain or restore it from a backup") from None


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
