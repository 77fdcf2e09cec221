"""Latent directions for the explorer, computed once per model (by its weights' SHA-256) and kept in
memory and in DATA_DIR/cache/directions/SHA.safetensors, so a restart does not compute them again.
See `pipelines/explore.py` for what the directions are."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import torch

from ..pipelines.explore import MAX_DIRECTIONS, latent_directions

VERSION = "svd1"       # how the cached directions were computed; a new method gets new files


class DirectionCache:
    def __init__(self, folder: Path, size: int = 8):
        self.folder, self.size = Path(folder), size
        self._mem: OrderedDict[str, tuple[torch.Tensor, torch.Tensor]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, handle) -> tuple[torch.Tensor, torch.Tensor]:
        """((K, z_dim) directions, (K,) variance fractions) of a loaded model."""
        key = handle.sha256
        with self._lock:
            if key in self._mem:
                self._mem.move_to_end(key)
                return self._mem[key]
        found = self._read(key, handle.z_dim)
        if found is None:
            found = latent_directions(handle, MAX_DIRECTIONS)
            self._write(key, found)
        with self._lock:
            self._mem[key] = found
            while len(self._mem) > self.size:
                self._mem.popitem(last=False)
        return found

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}-{VERSION}.safetensors"

    def _read(self, key: str, z_dim: int):
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        path = self._path(key)
        if not path.is_file():
            return None
        try:
            t = load_file(str(path))
            dirs, var = t["directions"], t["variance"]
        except (OSError, KeyError, SafetensorError):
            return None
        if dirs.dim() != 2 or dirs.shape[1] != z_dim or var.shape != dirs.shape[:1]:
            return None
        return dirs.float(), var.float()

    def _write(self, key: str, found) -> None:
        from safetensors.torch import save_file

        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self._path(key).with_suffix(".tmp")
        save_file({"directions": found[0].contiguous(), "variance": found[1].contiguous()}, str(tmp))
        tmp.replace(self._path(key))
