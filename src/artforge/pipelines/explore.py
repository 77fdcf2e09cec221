"""Latent explorer: move one image along the main directions of a generator's latent space (GANSpace).

Härkönen et al. 2020, "GANSpace: Discovering Interpretable GAN Controls" (arXiv:2004.02546). Principal
components of the latents themselves say nothing here: z ~ N(0, I) has the same variance in every
direction. So, as GANSpace does for BigGAN, we sample latents, map them through the generator's first
block (the 4x4 seed: transposed conv + BatchNorm + GLU/ReLU, where z first becomes an image layout),
take the principal components of those activations, and carry each component back to latent space by
linear regression of z on the PCA coordinates. Direction i is that regression's i-th column, scaled to
unit length: an offset of 1 moves the latent one standard deviation of N(0, I) along it. Its `variance`
is the fraction of the first block's activation variance that component i explains.

The recipe of an explored image records its latent itself (as breed does), so a replay needs neither the
directions nor how they were computed, and is bit-identical.

>>> # dirs, var = latent_directions(load_model("starter"))
>>> # out = ExplorePipeline(load_model("starter")).explore(dirs, [2.0, 0, -1.5], seed=3)
"""

from __future__ import annotations

import hashlib
import math

import torch

from ..errors import RecipeError, UserError
from ..io.images import to_pil
from .base import ModelHandle, Output, Param, Pipeline, latents
from .generate import batch_invariant_forward

SAMPLES = 4096          # latents drawn for the PCA (a fixed set: the directions are a function of the weights)
MAX_DIRECTIONS = 32
MAX_OFFSET = 5.0


def first_block(module: torch.nn.Module) -> torch.nn.Module:
    """The block that turns z into the first 4x4 feature map (`seed` in lite, `project` in DCGAN)."""
    for name in ("seed", "project"):
        block = getattr(module, name, None)
        if isinstance(block, torch.nn.Module):
            return block
    raise UserError(f"the latent explorer does not know the first block of a {type(module).__name__}")


@torch.no_grad()
def latent_directions(model: ModelHandle, k: int = MAX_DIRECTIONS, samples: int = SAMPLES,
                      seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """((K, z_dim) unit latent directions, (K,) explained-variance fractions), strongest first.

    Deterministic for given weights: the latents come from their own generator, the maths runs in
    float64, and each direction's sign is fixed (its largest coordinate positive).
    """
    z_dim = model.z_dim
    z = torch.randn(samples, z_dim, generator=torch.Generator().manual_seed(seed))          # (N, z_dim)
    block = first_block(model.module)
    feats = torch.cat([block(z[i:i + 1024, :, None, None].to(model.device)).flatten(1).double().cpu()
                       for i in range(0, samples, 1024)])                                   # (N, F)
    centred = feats - feats.mean(0)
    cov = centred.T @ centred / (samples - 1)                                               # (F, F)
    eigval, eigvec = torch.linalg.eigh(cov)                                                 # ascending
    k = max(1, min(k, z_dim, feats.shape[1]))
    top = eigvec[:, -k:].flip(1)                                                            # (F, K)
    coords = centred @ top                                                                  # (N, K)
    # regression z ~ coords @ B: row i of B is the latent move that goes with component i
    B = torch.linalg.lstsq(coords, z.double()).solution                                     # (K, z_dim)
    dirs = B / B.norm(dim=1, keepdim=True).clamp_min(1e-12)
    flip = torch.sign(dirs.gather(1, dirs.abs().argmax(1, keepdim=True)))
    variance = eigval.flip(0)[:k] / eigval.clamp_min(0).sum().clamp_min(1e-30)
    return (dirs * flip).float(), variance.float()


def directions_sha256(dirs: torch.Tensor) -> str:
    return hashlib.sha256(dirs.contiguous().numpy().tobytes()).hexdigest()


def check_offsets(offsets, available: int) -> list[float]:
    """The offsets as floats; UserError naming the problem otherwise."""
    if not isinstance(offsets, (list, tuple)):
        raise UserError("offsets: give a list of numbers, one per direction")
    if len(offsets) > available:
        raise UserError(f"offsets: {len(offsets)} given, but this model has {available} directions")
    out = []
    for i, v in enumerate(offsets):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise UserError(f"offsets[{i}]: expected a number, got {v!r}")
        if abs(v) > MAX_OFFSET:
            raise UserError(f"offsets[{i}]: {v} is out of range [-{MAX_OFFSET:g}, {MAX_OFFSET:g}]")
        out.append(float(v))
    return out


class ExplorePipeline(Pipeline):
    name = "explore"
    help = "one image moved along the main directions of the model's latent space (GANSpace sliders)"
    params = (
        Param("seed", "int", 0, "the image to start from (the same as generate's image with this seed)", 0, 2**31 - 1),
        Param("truncation", "float", 1.0, "shrink the starting latent toward the mean: <1 safer, >1 wilder",
              0.0, 2.0),
    )

    def latent(self, directions: torch.Tensor, offsets: list[float], seed: int, truncation: float) -> torch.Tensor:
        """(z_dim,): the seed's latent (times truncation) plus offset_i along direction i, summed in order."""
        z = latents([seed], self.model.z_dim)[0] * truncation
        for i, v in enumerate(offsets):
            if v:
                z = z + v * directions[i]
        return z

    @torch.no_grad()
    def explore(self, directions: torch.Tensor, offsets, **kwargs) -> Output:
        """One image; its recipe records the offsets, which directions they were along, and the latent."""
        p = self.resolve(**kwargs)
        offsets = check_offsets(offsets, len(directions))
        z = self.latent(directions, offsets, p["seed"], p["truncation"])
        x = batch_invariant_forward(self.model.module, z[None].to(self.model.device))       # (1, 3, H, W)
        params = {**p, "offsets": offsets, "image_seed": p["seed"], "latent": z.tolist(),
                  "directions": {"method": "pca of the first block's activations, regressed to z (GANSpace)",
                                 "samples": SAMPLES, "sha256": directions_sha256(directions)}}
        return Output(to_pil(x), [self.recipe("image", params)])

    def run(self, **params):
        raise UserError("explore needs directions and offsets: ExplorePipeline.explore(latent_directions(model), "
                        "offsets, seed=..., truncation=...)")

    def replay(self, recipe: dict) -> Output:
        latent = recipe.get("params", {}).get("latent")
        if not isinstance(latent, list) or len(latent) != self.model.z_dim \
                or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in latent):
            raise RecipeError("the explore recipe's params.latent is missing or of the wrong size")
        z = torch.tensor([latent], dtype=torch.float32, device=self.model.device)
        return Output(to_pil(batch_invariant_forward(self.model.module, z)), [recipe])
