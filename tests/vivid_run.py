"""A copy of the shared trained run whose pictures differ clearly from seed to seed.

Three training steps leave the tiny generator's output within a thousandth of grey (PNG levels 127 and 128
only), so two seeds often give the same PNG and a test that compares pixels could not tell them apart. The
copy multiplies the last layer's weights so that the same network's differences show in the pixels.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from artforge.io.weights import WEIGHTS_NAME, load_tensors, save_tensors

GAIN = 3000.0


def vivid_copy(run: Path, dest: Path) -> Path:
    """`run` copied to `dest` (no checkpoints) with its to_rgb layer scaled by GAIN; returns `dest`."""
    shutil.copytree(run, dest, ignore=shutil.ignore_patterns("checkpoints", "samples", "tensorboard"))
    tensors, meta = load_tensors(dest / WEIGHTS_NAME)
    for name in ("to_rgb.weight", "to_rgb.bias"):
        tensors[name] = tensors[name] * GAIN
    save_tensors(tensors, dest / WEIGHTS_NAME, meta)
    return dest
