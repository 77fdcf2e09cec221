"""Latent explorer: move one image along the main directions of a generator's latent space (GANSpace).

Härkönen et al. 2020, "GANSpace: Discovering Interpretable GAN Controls" (arXiv:2004.02546). Principal
components of the latents themselves say nothing here: z ~ N(0, I) has the same variance in every
direction. So, as GANSpace does for BigGAN, we take the principal components of the latents *mapped
through the generator's first layer* (the transposed conv that makes the 4x4 seed, with its BatchNorm,
which in eval mode is a per-channel scale and shift) and carry them back to latent space by regression.
That layer is affine, y = A z + c, so for z ~ N(0, I) the covariance of y is A Aᵀ exactly: its principal
components are the left singular vectors of A, and the regression of z on the PCA coordinates gives back
A's right singular vectors. So we compute them exactly (an SVD of a (F, z_dim) matrix, milliseconds)
instead of estimating them from samples, which took seconds and varied with the sample. Direction i has
unit length (an offset of 1 moves the latent one standard deviation of N(0, I) along it); its `variance`
is the fraction of the first layer's output variance that it explains.

The recipe of an explored image records its latent itself (as breed does), so a replay needs neither the
directions nor how they were computed, and is bit-identical.

>>> # dirs, var = latent_directions(load_model("starter"))
>>> # out = ExplorePipeline(load_model("starter")).explore(dirs, [2.0, 0, -1.5], seed=3)
"""

from __future__ import annotations

import hashlib
import math

import torch
from torch import nn

from ..errors import RecipeError, UserError
from ..io.images import to_pil
from .base import ModelHandle, Output, Pipeline, latents
from .specs import EXPLORE
from .generate import batch_invariant_forward

METHOD = "GANSpace: principal components of the first layer's output (exact SVD), mapped back to z"
MAX_DIRECTIONS = 32
MAX_OFFSET = 5.0
_AFFINE = (nn.Linear, nn.ConvTranspose2d, nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d)


def first_layer(module: nn.Module) -> nn.Sequential:
    """The affine start of the block that turns z into the first 4x4 feature map (`seed` in lite,
    `project` in DCGAN): its transposed conv and BatchNorm (eval mode), before the nonlinearity."""
    block = next((getattr(module, n) for n in ("seed", "project") if isinstance(getattr(module, n, None), nn.Module)),
                 None)
    layers = list(block) if isinstance(block, nn.Sequential) else [block] if block is not None else []
    affine = []
    for layer in layers:
        if not isinstance(layer, _AFFINE):
            break
        affine.append(layer)
    if not affine:
        raise UserError(f"the latent explorer does not know the first layer of a {type(module).__name__}")
    return nn.Sequential(*affine)


@torch.no_grad()
def first_layer_matrix(model: ModelHandle) -> torch.Tensor:
    """A in y = A z + c for the first layer, (F, z_dim) in float64, read off by probing with 0 and e_k."""
    d = model.z_dim
    probe = torch.cat([torch.zeros(1, d), torch.eye(d)])[:, :, None, None].to(model.device)   # (d+1, d, 1, 1)
    y = first_layer(model.module)(probe).flatten(1).double().cpu()                            # (d+1, F)
    return (y[1:] - y[0]).T


@torch.no_grad()
def latent_directions(model: ModelHandle, k: int = MAX_DIRECTIONS) -> tuple[torch.Tensor, torch.Tensor]:
    """((K, z_dim) unit latent directions, (K,) explained-variance fractions), strongest first.

    Deterministic for given weights; each direction's sign is fixed (its largest coordinate positive).
    """
    A = first_layer_matrix(model)
    _, S, Vh = torch.linalg.svd(A, full_matrices=False)            # S descending; rows of Vh: directions in z
    k = max(1, min(k, len(S)))
    dirs = Vh[:k]
    flip = torch.sign(dirs.gather(1, dirs.abs().argmax(1, keepdim=True)))
    variance = S[:k] ** 2 / (S ** 2).sum().clamp_min(1e-30)
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
    needs_gan = True
    spec = EXPLORE

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
                  "directions": {"method": METHOD, "sha256": directions_sha256(directions)}}
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
