"""GAN networks by name: ``ARCHS`` maps an arch to (Config, Generator, Discriminator); ``PRESETS``
are size overrides that mean the same for every arch.

>>> import torch
>>> G = build_generator("lite", {"resolution": 32, **PRESETS["tiny"]})
>>> G(torch.randn(1, G.config.z_dim)).shape
torch.Size([1, 3, 32, 32])
"""

from __future__ import annotations

import dataclasses
from typing import Any

from torch import nn

from ..config import from_dict
from ..errors import ConfigError
from .dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator
from .lite import LiteDiscriminator, LiteGANConfig, LiteGenerator

ARCHS: dict[str, tuple[type, type[nn.Module], type[nn.Module]]] = {
    "lite": (LiteGANConfig, LiteGenerator, LiteDiscriminator),
    "dcgan": (DCGANConfig, DCGANGenerator, DCGANDiscriminator),
}

# Field overrides (same keys for every arch). tiny: a laptop CPU; small: a fast CPU or a small GPU; base: a
# GPU, FastGAN-sized. Step times, sizes and latencies: docs/benchmarks.md (Presets).
PRESETS: dict[str, dict[str, int]] = {
    "tiny": {"z_dim": 64, "g_channels": 4, "d_channels": 8, "max_channels": 96},
    "small": {"z_dim": 128, "g_channels": 8, "d_channels": 8, "max_channels": 256},
    "base": {"z_dim": 256, "g_channels": 32, "d_channels": 32, "max_channels": 512},
}


def _arch(arch: str) -> tuple[type, type[nn.Module], type[nn.Module]]:
    if arch not in ARCHS:
        raise ConfigError(f"unknown GAN arch {arch!r}; valid archs: {', '.join(ARCHS)}")
    return ARCHS[arch]


def config_class(arch: str) -> type:
    """The Config dataclass of `arch` (ConfigError naming the valid archs if unknown)."""
    return _arch(arch)[0]


def make_config(arch: str, config: dict[str, Any] | Any) -> Any:
    """A checked Config for `arch` from a field dict (unknown keys are ConfigErrors) or a Config."""
    cls = config_class(arch)
    if isinstance(config, cls):
        return config
    if dataclasses.is_dataclass(config):
        config = dataclasses.asdict(config)
    return from_dict(cls, dict(config), where=f" for GAN arch '{arch}'")


def build_generator(arch: str, config: dict[str, Any]) -> nn.Module:
    """The generator of `arch` built from a dict of its Config fields (missing fields: defaults)."""
    return _arch(arch)[1](make_config(arch, config))


def build_discriminator(arch: str, config: dict[str, Any]) -> nn.Module:
    """The discriminator of `arch` built from a dict of its Config fields (missing fields: defaults)."""
    return _arch(arch)[2](make_config(arch, config))


__all__ = [
    "ARCHS",
    "PRESETS",
    "DCGANConfig",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "LiteDiscriminator",
    "LiteGANConfig",
    "LiteGenerator",
    "build_discriminator",
    "build_generator",
    "config_class",
    "make_config",
]
