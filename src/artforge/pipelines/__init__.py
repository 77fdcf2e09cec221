"""Inference-only creating operations. Each declares its parameters once and returns outputs with recipes."""

from .base import ModelHandle, Output, Param, Pipeline, load_model
from .generate import GeneratePipeline
from .interpolate import InterpolatePipeline
from .music import MusicBreedPipeline, MusicInterpolatePipeline, MusicSamplePipeline

PIPELINES: dict[str, type[Pipeline]] = {p.name: p for p in (GeneratePipeline, InterpolatePipeline,
                                                           MusicSamplePipeline, MusicInterpolatePipeline,
                                                           MusicBreedPipeline)}

__all__ = ["PIPELINES", "GeneratePipeline", "InterpolatePipeline", "MusicBreedPipeline", "MusicInterpolatePipeline",
           "MusicSamplePipeline", "ModelHandle", "Output", "Param",
           "Pipeline", "load_model"]
