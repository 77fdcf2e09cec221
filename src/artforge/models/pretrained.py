"""Load a trained network from a folder holding `config.json` + `model.safetensors`, and nothing else.

>>> # G = from_pretrained("runs/my-run")      # or from_pretrained("starter")
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import torch
from torch import nn

from ..errors import RunError
from ..io.weights import CONFIG_NAME, WEIGHTS_NAME, load_config, load_weights

STARTER = "starter"


def starter_dir() -> Path:
    """The small generator that ships inside the package."""
    return Path(str(resources.files("artforge") / "assets" / "starter"))


def resolve_model_dir(name_or_path: str | Path) -> Path:
    """'starter' or a run folder -> the folder; RunError when it holds no model."""
    p = starter_dir() if str(name_or_path) == STARTER else Path(name_or_path)
    if not p.is_dir():
        raise RunError(f"model folder not found: {p}; give a run folder or 'starter'")
    if not (p / WEIGHTS_NAME).is_file() or not (p / CONFIG_NAME).is_file():
        raise RunError(f"{p} holds no trained model yet ({CONFIG_NAME} + {WEIGHTS_NAME}); "
                       "train one with: artforge train gan DIR --run RUN_DIR")
    return p


def build_from_config(config: dict) -> nn.Module:
    """An untrained network of the family and architecture that `config` (a config.json) names."""
    from . import build_generator

    family = config.get("family")
    if family != "gan":
        raise RunError(f"model family '{family}' cannot be loaded by this artforge")
    return build_generator(config["arch"], config["model"])


def from_pretrained(name_or_path: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """The network in a model folder, in eval mode, with its config.json as `.artforge_config`."""
    folder = resolve_model_dir(name_or_path)
    config = load_config(folder / CONFIG_NAME)
    module = build_from_config(config)
    state = load_weights(folder / WEIGHTS_NAME)
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise RunError(f"{folder / WEIGHTS_NAME} does not match {folder / CONFIG_NAME}: {str(e).splitlines()[0]}") from None
    module.artforge_config = config
    return module.to(device).eval().requires_grad_(False)
