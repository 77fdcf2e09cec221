"""Load a trained network from a folder holding `config.json` + `model.safetensors`, and nothing else.

>>> # G = from_pretrained("runs/my-run")      # or from_pretrained("starter")
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .. import families
from ..errors import RunError
from ..io.weights import CONFIG_NAME, WEIGHTS_NAME, load_config, load_weights

STARTER = "starter"
# Derived views of the registry (artforge.families) for the callers that name them; look-ups go there.
MUSIC_STARTERS = {s.name: Path(s.folder).name for s in families.family("music").starters}
STYLE_STARTERS = {s.name: Path(s.folder).name for s in families.family("style").starters}


def starter_dir() -> Path:
    """The small generator that ships inside the package."""
    return families.starter(STARTER).path()


def music_starter_dir(name: str) -> Path:
    if name not in MUSIC_STARTERS:
        raise KeyError(name)
    return families.starter(name).path()


def shipped_model_dir(name: str) -> Path | None:
    """The folder of a model that ships inside the package ('starter', 'starter:melody-2bar', ...)."""
    found = families.starter(str(name))
    return found.path() if found else None


def resolve_model_dir(name_or_path: str | Path) -> Path:
    """A shipped model's name ('starter', 'starter:melody-2bar', ...) or a run folder -> the folder; RunError when it holds no model."""
    p = shipped_model_dir(str(name_or_path)) or Path(name_or_path)
    if not p.is_dir():
        raise RunError(f"model folder not found: {p}; give a run folder or 'starter'")
    if not (p / WEIGHTS_NAME).is_file() or not (p / CONFIG_NAME).is_file():
        raise RunError(f"{p} holds no trained model yet ({CONFIG_NAME} + {WEIGHTS_NAME}); "
                       "train one with: artforge train gan DIR --run RUN_DIR")
    return p


def build_from_config(config: dict, where: str = "") -> nn.Module:
    """An untrained network of the family and architecture that `config` (a config.json) names, as the
    family's registration (artforge.families) says: `Arch.network(from_dict(Arch.config, config["model"]))`."""
    from ..config import from_dict

    arch = families.family(config.get("family")).arch(config.get("arch"))
    net, cfg = families.resolve(arch.network), families.resolve(arch.config)
    return net(from_dict(cfg, dict(config.get("model") or {}), where=where))


def from_pretrained(name_or_path: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """The network in a model folder, in eval mode, with its config.json as `.artforge_config`."""
    folder = resolve_model_dir(name_or_path)
    config = load_config(folder / CONFIG_NAME)
    module = build_from_config(config, where=f" in {folder / CONFIG_NAME}")
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
