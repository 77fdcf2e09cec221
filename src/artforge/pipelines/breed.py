"""Breed images: children of two or more parents by latent crossover, blending and mutation.

A parent is given as its latent (`parent_latent` rebuilds it from a generate or breed recipe). Child k
draws its randomness from `seed + k` alone. Its recipe records the child's latent itself (z_dim numbers),
so a replay needs neither the parents nor their recipes, however many generations back they go.

>>> # children = BreedPipeline(load_model("starter")).breed([z_a, z_b], n=4, mode="crossover")
"""

from __future__ import annotations

import math

import torch

from ..errors import RecipeError, UserError
from ..io.images import to_pil
from .base import Output, Pipeline, latents
from .generate import batch_invariant_forward
from .specs import BREED


def parent_latent(recipe: dict, z_dim: int) -> torch.Tensor:
    """(z_dim,) latent of an image made by `generate` or `breed`; UserError for anything else."""
    params = recipe.get("params") if isinstance(recipe.get("params"), dict) else {}
    seed, t, latent = params.get("image_seed"), params.get("truncation", 1.0), params.get("latent")
    if recipe.get("pipeline") == "generate" and isinstance(seed, int) and 0 <= seed < 2**63 \
            and isinstance(t, (int, float)) and math.isfinite(t):
        return latents([seed], z_dim)[0] * float(t)
    if recipe.get("pipeline") == "breed" and isinstance(latent, list) and len(latent) == z_dim \
            and all(isinstance(v, (int, float)) and math.isfinite(v) for v in latent):
        return torch.tensor(latent, dtype=torch.float32)
    raise UserError("only images made by generate or breed can be bred (their recipes give their latents)")


def child_latent(parents: torch.Tensor, mode: str, mutation: float, seed: int) -> torch.Tensor:
    """(z_dim,) child of (P, z_dim) parent latents.

    crossover: each coordinate from a parent picked at random; blend: random convex weights, rescaled to
    the parents' mean norm (an average of Gaussians is shorter than a Gaussian); mutate: one parent (picked
    by seed). Then mutation, variance-preserving: z <- sqrt(1 - s^2) z + s eps, s = `mutation`.
    """
    g = torch.Generator().manual_seed(int(seed))
    p, z_dim = parents.shape
    if mode == "crossover":
        pick = torch.randint(p, (z_dim,), generator=g)
        z = parents[pick, torch.arange(z_dim)]
    elif mode == "blend":
        w = -torch.log(torch.rand(p, generator=g).clamp_min(1e-12))
        z = (w / w.sum()) @ parents
        z = z * parents.norm(dim=1).mean() / z.norm().clamp_min(1e-12)
    else:
        z = parents[int(torch.randint(p, (1,), generator=g))].clone()
    eps = torch.randn(z_dim, generator=g)
    return (1.0 - mutation**2) ** 0.5 * z + mutation * eps


class BreedPipeline(Pipeline):
    needs_gan = True
    spec = BREED

    def breed(self, parents: list[torch.Tensor], parent_refs: list | tuple = (), **kwargs) -> Output:
        """Children of `parents` ((z_dim,) latents); `parent_refs` go into each child's recipe."""
        p = self.resolve(**kwargs)
        if len(parents) < (1 if p["mode"] == "mutate" else 2):
            raise UserError(f"{p['mode']} needs at least two parents (mutate needs one)")
        P = torch.stack([z.float().cpu() for z in parents])                               # (P, z_dim)
        z = torch.stack([child_latent(P, p["mode"], p["mutation"], p["seed"] + k) for k in range(p["n"])])
        x = batch_invariant_forward(self.model.module, z.to(self.model.device))          # (n, 3, H, W)
        recipes = [self.recipe("image", {**p, "index": k, "latent": z[k].tolist()}, parent_refs)
                   for k in range(p["n"])]
        return Output(to_pil(x), recipes)

    def run(self, **params):
        raise UserError("breed needs parent images: use BreedPipeline.breed(parent_latents, ...)")

    def replay(self, recipe: dict) -> Output:
        latent = recipe.get("params", {}).get("latent")
        if not isinstance(latent, list) or len(latent) != self.model.z_dim:
            raise RecipeError("the breed recipe's params.latent is missing or of the wrong size")
        z = torch.tensor([latent], dtype=torch.float32, device=self.model.device)
        return Output(to_pil(batch_invariant_forward(self.model.module, z)), [recipe])
