"""Process-wide settings that make CPU inference faster; imported by the CLI and by every pipeline.

`tune_malloc()`: glibc's malloc hands every block over 128 KiB to the kernel with mmap and gives it
back on free, so a network whose activations are tens of MB (a 512 px picture at stride 2 is 25 MB per
96 channels) takes fresh zeroed pages, and a page fault per 4 KiB, for every tensor of every call. Raising
the mmap and trim thresholds keeps freed memory in the heap for the next call, which speeds up the
arbitrary-style network markedly (docs/benchmarks.md). PyTorch's
CPU performance guide reaches the same end by preloading jemalloc or tcmalloc. The cost is that the
process keeps its peak heap instead of returning it. Other platforms, and `ARTFORGE_MALLOC=default`,
leave malloc alone.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3      # mallopt parameter numbers, glibc's malloc.h
MMAP_THRESHOLD = 512 * 2**20                     # blocks below this come from the heap and are reused
TRIM_THRESHOLD = 2**30                           # free memory kept at the top of the heap before trimming

_state: dict = {}


def tune_malloc() -> bool:
    """Once per process: True when glibc accepted both settings (False elsewhere, or when opted out)."""
    if "done" not in _state:
        _state["done"] = _apply()
    return _state["done"]


def _apply() -> bool:
    if not sys.platform.startswith("linux") or os.environ.get("ARTFORGE_MALLOC", "") == "default":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):     # musl and others: no glibc, nothing to tune
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
