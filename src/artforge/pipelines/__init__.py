"""Inference-only creating operations. Each declares its parameters once and returns outputs with recipes."""

from .base import ModelHandle, Output, Param, Pipeline, load_model
from .generate import GeneratePipeline
from .interpolate import InterpolatePipeline

PIPELINES: dict[str, type[Pipeline]] = {p.name: p for p in (GeneratePipeline, InterpolatePipeline)}

__all__ = ["PIPELINES", "GeneratePipeline", "InterpolatePipeline", "ModelHandle", "Output", "Param",
           "Pipeline", "load_model"]
