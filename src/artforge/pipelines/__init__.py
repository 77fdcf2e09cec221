"""Inference-only creating operations. Each declares its parameters once and returns outputs with recipes.

The names below are imported on first use: importing artforge.pipelines (and the torch-free declarations in
.params and .specs) imports no torch.
"""

from importlib import import_module
from typing import Any

_LAZY = {"ModelHandle": "base", "Output": "base", "Pipeline": "base", "load_model": "base", "Param": "params",
         "BreedPipeline": "breed", "ExplorePipeline": "explore", "GeneratePipeline": "generate",
         "InterpolatePipeline": "interpolate", "MusicBreedPipeline": "music", "MusicInterpolatePipeline": "music",
         "MusicSamplePipeline": "music", "ArbitraryStylePipeline": "style_models",
         "FastStylePipeline": "style_models", "StylizePipeline": "stylize"}
_CLASSES = ("GeneratePipeline", "InterpolatePipeline", "BreedPipeline", "ExplorePipeline", "MusicSamplePipeline",
            "MusicInterpolatePipeline", "MusicBreedPipeline", "StylizePipeline", "ArbitraryStylePipeline",
            "FastStylePipeline")


def __getattr__(name: str) -> Any:
    if name == "PIPELINES":
        value: Any = {cls.name: cls for cls in map(__getattr__, _CLASSES)}
    elif name in _LAZY:
        value = getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


__all__ = ["PIPELINES", *_LAZY]
