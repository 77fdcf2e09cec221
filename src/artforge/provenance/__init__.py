"""Recipes: how each output was made, carried inside the file, redactable, replayable."""

from .recipe import RECIPE_KEY, build_recipe, read_recipe, redact

__all__ = ["RECIPE_KEY", "build_recipe", "read_recipe", "redact"]
