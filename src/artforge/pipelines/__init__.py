"""Inference-only creating operations. Each declares its parameters once and returns outputs with recipes.

Which pipelines exist is the registry's (artforge.families): `PIPELINES` is a live, read-only view of it,
name -> class, each class imported when first asked for. Importing this package imports no torch: the
names below (`GeneratePipeline`, `load_model`, ...) are imported from their modules on first use, so
`artforge.pipelines.specs` and the registry's lists stay light.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module
from typing import Any

from .. import families

# name -> the module of this package that defines it
_LAZY = {"ModelHandle": "base", "Output": "base", "Param": "base", "Pipeline": "base", "load_model": "base",
         "BreedPipeline": "breed", "ExplorePipeline": "explore", "GeneratePipeline": "generate",
         "InterpolatePipeline": "interpolate", "MusicBreedPipeline": "music",
         "MusicInterpolatePipeline": "music", "MusicSamplePipeline": "music",
         "ArbitraryStylePipeline": "style_models", "FastStylePipeline": "style_models",
         "StylizePipeline": "stylize"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


def pipeline_class(name: str) -> type | None:
    """The class of the pipeline registered as `name` (imported now), None if no family registers it."""
    spec = families.pipeline_spec(name)
    if spec is None:
        return None
    cls = families.resolve(spec.cls)
    if getattr(cls, "name", None) != name:
        raise TypeError(f"family {spec.family} registers pipeline {name!r} as {cls!r}, whose name is "
                        f"{getattr(cls, 'name', None)!r}")
    return cls


class _Registered(Mapping):
    """Every registered pipeline, name -> class, read from the registry at each use."""

    def __getitem__(self, name: str) -> type:
        cls = pipeline_class(name) if isinstance(name, str) else None
        if cls is None:
            raise KeyError(name)
        return cls

    def __iter__(self) -> Iterator[str]:
        return iter([p.name for p in families.pipeline_specs()])

    def __len__(self) -> int:
        return len(families.pipeline_specs())

    def __repr__(self) -> str:
        return f"PIPELINES({', '.join(self)})"


PIPELINES: Mapping[str, type] = _Registered()

__all__ = ["PIPELINES", "pipeline_class", *_LAZY]
