"""Inference-only creating operations. Each declares its parameters once and returns outputs with recipes."""

from .base import ModelHandle, Output, Param, Pipeline, load_model
from .breed import BreedPipeline
from .explore import ExplorePipeline
from .generate import GeneratePipeline
from .interpolate import InterpolatePipeline
from .music import MusicBreedPipeline, MusicInterpolatePipeline, MusicSamplePipeline
from .style_models import ArbitraryStylePipeline, FastStylePipeline
from .stylize import StylizePipeline

PIPELINES: dict[str, type[Pipeline]] = {p.name: p for p in (GeneratePipeline, InterpolatePipeline, BreedPipeline,
                                                           ExplorePipeline,
                                                           MusicSamplePipeline, MusicInterpolatePipeline,
                                                           MusicBreedPipeline, StylizePipeline,
                                                           ArbitraryStylePipeline, FastStylePipeline)}

__all__ = ["PIPELINES", "ArbitraryStylePipeline", "FastStylePipeline", "BreedPipeline", "ExplorePipeline", "GeneratePipeline", "InterpolatePipeline", "MusicBreedPipeline",
           "MusicInterpolatePipeline",
           "MusicSamplePipeline", "ModelHandle", "Output", "Param",
           "Pipeline", "StylizePipeline", "load_model"]
