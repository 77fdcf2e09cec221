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
# The melody models that ship with artforge, by the names the CLI accepts.
MUSIC_STARTERS = {"starter:melody-2bar": "melody-2bar", "starter:melody-16bar": "melody-16bar"}
# The style networks that ship with artforge.
STYLE_STARTERS = {"starter:style-arbitrary": "arbitrary"}


def starter_dir() -> Path:
    """The small generator that ships inside the package."""
    return Path(str(resources.files("artforge") / "assets" / "starter"))


def music_starter_dir(name: str) -> Path:
    return Path(str(resources.files("artforge") / "assets" / "music" / MUSIC_STARTERS[name]))


def shipped_model_dir(name: str) -> Path | None:
    """The folder of a model that ships inside the package ('starter', 'starter:melody-2bar', ...)."""
    if name == STARTER:
        return starter_dir()
    if name in STYLE_STARTERS:
        return Path(str(resources.files("artforge") / "assets" / "style" / STYLE_STARTERS[name]))
    return music_starter_dir(name) if name in MUSIC_STARTERS else None


def resolve_model_dir(name_or_path: str | Path) -> Path:
    """'starter' (or a shipped melody model's name) or a run folder -> the folder; RunError when it holds no model."""
    p = shipped_model_dir(str(name_or_path)) or Path(name_or_path)
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
    if family == "music":
        from ..config import from_dict
        from .musicvae import MusicVAE, MusicVAEConfig, SegmentVAE, SegmentVAEConfig
        if config.get("arch") == "musicvae-segments":
            return SegmentVAE(from_dict(SegmentVAEConfig, config["model"]))
        return MusicVAE(from_dict(MusicVAEConfig, config["model"]))
    if family == "style":
        from ..config import from_dict
        from .stylenet import AdaINConfig, StyleDecoder, TransformConfig, TransformNet
        if config.get("arch") == "adain-lite0":
            return StyleDecoder(from_dict(AdaINConfig, config["model"]))
        if config.get("arch") == "transform-net":
            return TransformNet(from_dict(TransformConfig, config["model"]))
        raise RunError(f"style architecture '{config.get('arch')}' cannot be loaded by this artforge")
    if family != "gan":
        raise RunError(f"model family '{family}' cannot be loaded by this artforge")
    return build_generator(config["arch"], config["model"])


def from_pretrained(name_or_path: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """The network in a model folder, in eval mode, with its config.json as `.artforge_config`."""
    folder = resolve_model_dir(name_or_path)
    config = load_config(folder / CONFIG_NAME)
    module = build_from_config(config)
    state = load_weights(folder / WEIGHTS_NAME)
    problem = state_mismatch(module.state_dict(), state)
    if problem:
        raise RunError(f"{folder / WEIGHTS_NAME} does not match {folder / CONFIG_NAME}: {problem} (the weights file "
                       "is damaged or belongs to another model: retrain or restore it from a backup)")
    module.load_state_dict(state, strict=True)
    module.artforge_config = config
    return module.to(device).eval().requires_grad_(False)


def state_mismatch(expected: dict, got: dict, shown: int = 3) -> str:
    """What keeps `got` from loading where `expected` is wanted (names and shapes), in a few words; '' if nothing.

    >>> state_mismatch({"a": torch.zeros(2), "b": torch.zeros(1)}, {"a": torch.zeros(3), "c": torch.zeros(1)})
    'missing b; unexpected c; a is (3,), not (2,)'
    """
    def some(names: list[str]) -> str:
        more = f" and {len(names) - shown} more" if len(names) > shown else ""
        return ", ".join(names[:shown]) + more

    missing = sorted(set(expected) - set(got))
    unexpected = sorted(set(got) - set(expected))
    shapes = [f"{k} is {tuple(got[k].shape)}, not {tuple(expected[k].shape)}" for k in sorted(set(expected) & set(got))
              if tuple(got[k].shape) != tuple(expected[k].shape)]
    parts = ([f"missing {some(missing)}"] if missing else []) + ([f"unexpected {some(unexpected)}"] if unexpected
                                                                   else []) + shapes[:shown]
    return "; ".join(parts)
