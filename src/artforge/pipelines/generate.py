"""Sample images from a generator: one latent per seed, optional truncation, a grid of them all."""

from __future__ import annotations

import torch

from ..errors import RecipeError
from ..io.images import make_grid, to_pil
from .base import Output, Param, Pipeline, latents


class GeneratePipeline(Pipeline):
    """Image i uses seed `seed + i`. Images are computed in chunks of `batch_size`, and a replay recomputes
    the same chunk, so a replayed image is bit-identical to the original on the same kind of CPU."""

    name = "generate"
    help = "sample new images from a model"
    params = (
        Param("n", "int", 16, "how many images", 1, 4096, short="-n"),
        Param("seed", "int", 0, "seed of the first image; image i uses seed+i", 0, 2**31 - 1),
        Param("truncation", "float", 1.0, "shrink latents toward the mean: <1 safer, >1 wilder", 0.0, 2.0),
        Param("batch_size", "int", 16, "images per forward pass", 1, 512),
    )

    @torch.no_grad()
    def images(self, seed: int, count: int, truncation: float, batch_size: int, start: int = 0) -> torch.Tensor:
        """(count, 3, H, W) in [-1, 1] for seeds seed+start ..., in chunks aligned to `batch_size`."""
        out = []
        for lo in range(start, start + count, batch_size):
            hi = min(lo + batch_size, start + count)
            z = latents(list(range(seed + lo, seed + hi)), self.model.z_dim, self.model.device) * truncation
            out.append(self.model.module(z).float().cpu())
        return torch.cat(out)

    def run(self, n: int, seed: int, truncation: float, batch_size: int) -> Output:
        x = self.images(seed, n, truncation, batch_size)
        params = {"n": n, "seed": seed, "truncation": truncation, "batch_size": batch_size}
        pictures = to_pil(x)
        recipes = [self.recipe("image", {**params, "index": i, "image_seed": seed + i}) for i in range(n)]
        return Output(pictures + [make_grid(x)], recipes + [self.recipe("grid", params)])

    def replay(self, recipe: dict) -> Output:
        p = {k: recipe["params"][k] for k in ("n", "seed", "truncation", "batch_size")}
        p = self.resolve(**p)
        if recipe.get("output") == "grid":
            x = self.images(p["seed"], p["n"], p["truncation"], p["batch_size"])
            return Output([make_grid(x)], [recipe])
        i = recipe["params"].get("index")
        if not isinstance(i, int) or not 0 <= i < p["n"]:
            raise RecipeError("the recipe's params.index is missing or out of range")
        lo = i // p["batch_size"] * p["batch_size"]
        chunk = self.images(p["seed"], min(p["batch_size"], p["n"] - lo), p["truncation"], p["batch_size"], lo)
        return Output(to_pil(chunk[i - lo:i - lo + 1]), [recipe])
